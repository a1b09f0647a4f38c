"""Opaque cursors shared by every DocumentStore adapter.

Listings are ordered by id; the cursor is the last id of the page, encoded so
clients treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii

from axon.errors import InvalidInput


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput.field("cursor", "malformed cursor") from None
