"""Errors the core raises; the API maps each to a status and a stable code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AxonError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class InvalidInput(AxonError):
    status = 422
    code = "VALIDATION_ERROR"

    @classmethod
    def field(cls, field: str, message: str, **kwargs: Any) -> InvalidInput:
        return cls(message, details=[{"field": field, "message": message}], **kwargs)


class NotFound(AxonError):
    status = 404
    code = "NOT_FOUND"


class WorkspaceNotFound(NotFound):
    """The one 404 for a workspace the caller cannot use, whether it is missing or not
    the caller's (so a key cannot learn which workspaces exist); `suggestions`, the
    "did you mean" ids, must only hold ids the caller may see. The CLI adds the data
    folder to every NotFound it prints (`cli/_app.py`)."""

    code = "WORKSPACE_NOT_FOUND"

    def __init__(
        self, workspace_id: str, field: str = "workspaceId", suggestions: Sequence[str] = ()
    ) -> None:
        message = f"workspace '{workspace_id}' not found"
        detail: dict[str, Any] = {"field": field, "message": "no such workspace"}
        if suggestions:
            message += "; did you mean " + " or ".join(f"'{s}'" for s in suggestions) + "?"
            detail["suggestions"] = list(suggestions)
        super().__init__(message, details=[detail])
        self.workspace_id = workspace_id
        self.suggestions = tuple(suggestions)


class Conflict(AxonError):
    status = 409
    code = "CONFLICT"


class Forbidden(AxonError):
    status = 403
    code = "FORBIDDEN"


class RateLimited(AxonError):
    status = 429
    code = "RATE_LIMITED"


class ServiceUnavailable(AxonError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
