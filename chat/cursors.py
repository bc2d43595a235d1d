"""Opaque sync cursors: a user's inbox position, versioned and base64url-encoded."""
from __future__ import annotations

import base64
import binascii
import re

from core.errors import ValidationError

_PREFIX = "v1:"
_POSITION = re.compile(r"^(0|[1-9][0-9]{0,18})$")


def encode_cursor(pos: int) -> str:
    """The cursor a client keeps for inbox position `pos`."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{pos}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The inbox position of `cursor` (None: the beginning, 0); anything malformed is 400 invalid_cursor."""
    if cursor is None:
        return 0
    try:
        if not isinstance(cursor, str) or len(cursor) > 64:
            raise ValueError
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        text = raw.decode("ascii")
        if not text.startswith(_PREFIX) or not _POSITION.match(text[len(_PREFIX):]):
            raise ValueError
        pos = int(text[len(_PREFIX):])
        if encode_cursor(pos) != cursor:  # one spelling per position
            raise ValueError
        return pos
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("The cursor is not valid.", code="invalid_cursor",
                              details={"fields": {"cursor": ["Not a cursor this server handed out."]}}) from None
