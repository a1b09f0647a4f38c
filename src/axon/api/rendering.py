"""JSON bodies rendered in one step.

FastAPI turns a returned model into a dict, validates that against the response
model, walks it in Python (`jsonable_encoder`) and serialises it again; for the
prompt pipeline's large answers (every context item and the report) that was a
tenth of a worker's time. Those answers go straight to pydantic-core's encoder
instead (their routes document the same model): a model with `model_response`,
an already JSON-ready body (`dump()` output) with `json_response`.
Also the `Warning` header that flags a degraded (still 200) answer.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel
from pydantic_core import to_json


def json_response(body: Any, status_code: int = 200) -> Response:
    """`body` (dicts, lists, strings, numbers, booleans, None) as an application/json
    response, the same JSON FastAPI would produce."""
    return Response(
        to_json(body, inf_nan_mode="null"), status_code=status_code, media_type="application/json"
    )


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A response model's JSON (camelCase aliases) in one pass, skipping FastAPI's
    dict round trip and re-validation."""
    return Response(
        to_json(model, by_alias=True, inf_nan_mode="null"),
        status_code=status_code,
        media_type="application/json",
    )


def warning_header(messages: list[str]) -> str:
    """`199 axon "..."` (RFC 9111's miscellaneous warning) per problem, printable ASCII."""
    parts = []
    for message in messages:
        text = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else " " for ch in message)
        parts.append(f'199 axon "{text[:200]}"')
    return ", ".join(parts)
