"""Bounds on the free-form JSON clients may store (workspace settings, context metadata).

Free-form objects are stored as given and parsed again on every read, so an
object nested a few hundred levels deep, accepted once, would break every later
read of its workspace. They are checked when a request is validated, before
anything is stored: at most MAX_DEPTH levels of objects and arrays, MAX_NODES
values and MAX_CHARS characters of keys and strings. The walk is iterative, so
the check itself cannot overflow the stack.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema

MAX_DEPTH = 32
MAX_NODES = 10_000
MAX_CHARS = 256 * 1024


def check_bounds(value: Any) -> Any:
    """`value` unchanged; ValueError naming the bound it breaks."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = chars = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ValueError(f"holds more than {MAX_NODES} values")
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError(f"is nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                chars += sum(len(k) for k in item if isinstance(k, str))
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            chars += len(item)
        if chars > MAX_CHARS:
            raise ValueError(f"holds more than {MAX_CHARS} characters of keys and strings")
    return value


_DESCRIPTION = (
    f"any JSON object, at most {MAX_DEPTH} levels deep, {MAX_NODES} values "
    f"and {MAX_CHARS} characters of keys and strings"
)
FreeJson = Annotated[dict[str, Any], BeforeValidator(check_bounds), Field(description=_DESCRIPTION)]
# In a patch: None means "not given", and the schema offers no null (the patch refuses it).
FreeJsonPatch = Annotated[
    dict[str, Any] | SkipJsonSchema[None],
    BeforeValidator(check_bounds),
    Field(description=_DESCRIPTION),
]
