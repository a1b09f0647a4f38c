"""JSON bodies rendered in one step.

FastAPI encodes a returned dict by walking it in Python (`jsonable_encoder`), then
serialises it again; for the prompt pipeline's large answers (every context item
and the report) that walk was a tenth of a worker's time. Bodies that are
already JSON-ready (`dump()` output) go straight to pydantic-core's encoder.
Also the `Warning` header that flags a degraded (still 200) answer.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic_core import to_json


def json_response(body: Any, status_code: int = 200) -> Response:
    """`body` (dicts, lists, strings, numbers, booleans, None) as an application/json
    response, the same JSON FastAPI would produce."""
    return Response(
        to_json(body, inf_nan_mode="null"), status_code=status_code, media_type="application/json"
    )


def warning_header(messages: list[str]) -> str:
    """`199 axon "..."` (RFC 9111's miscellaneous warning) per problem, printable ASCII."""
    parts = []
    for message in messages:
        text = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else " " for ch in message)
        parts.append(f'199 axon "{text[:200]}"')
    return ", ".join(parts)
