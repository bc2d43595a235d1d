"""The conversation list's cursor: where the last page ended, in a snapshot of the list taken by page 1.

Opaque to clients (compact JSON, deflated, base64url). It holds:
- `u`: the user it was made for, `f`: the filters of the list (another user's cursor, or one
  reused with other filters, is a 400 `invalid_cursor`);
- `p`: the user's inbox position when page 1 was read. Every message of an item or direct group
  reaches each member's inbox at a gap-free, commit-ordered position, so "got a message after the
  snapshot" is exactly "has an inbox entry above `p`";
- `t`: the snapshot time (archive cutoffs are taken at it, so a page boundary never moves a chat
  in or out of the archive);
- `k`, `g`: the activity and group id of the last conversation shown (the keyset position);
- `r`: the rooms not shown yet, each with its activity at the snapshot (rooms have no inbox, and
  a user is in few of them);
- `n`: the chats pinned at the snapshot (listed first, a user has few), each with its activity at
  the snapshot while not shown yet, -1 once shown.
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from core.errors import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
#: a cursor and the other query parameters fit in one request line (core.server_limits.LIMIT_REQUEST_LINE)
MAX_CURSOR_CHARS = 4096
#: what a cursor looks like (unpadded base64url), as the OpenAPI document states it
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
_MAX_INFLATED_BYTES = 256 * 1024


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    listing_id: int | None = None
    archived: bool = False

    def as_list(self) -> list[Any]:
        return [self.kind, self.listing_id, self.archived]


@dataclass
class Snapshot:
    """A decoded cursor (see the module docstring)."""

    user_id: int
    filters: Filters
    inbox_pos: int
    taken_at: datetime
    key: datetime
    group_id: int
    rooms: dict[int, datetime] = field(default_factory=dict)
    #: every chat pinned at the snapshot → its activity then, None once shown
    pinned: dict[int, datetime | None] = field(default_factory=dict)


def encode_cursor(snapshot: Snapshot) -> str:
    data = {"u": snapshot.user_id, "f": snapshot.filters.as_list(), "p": snapshot.inbox_pos,
            "t": to_micros(snapshot.taken_at), "k": to_micros(snapshot.key), "g": snapshot.group_id,
            "r": [[room_id, to_micros(key)] for room_id, key in snapshot.rooms.items()],
            "n": [[gid, -1 if key is None else to_micros(key)] for gid, key in snapshot.pinned.items()]}
    raw = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 9)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor(problem: str) -> ValidationError:
    return ValidationError("The cursor is not valid.", code="invalid_cursor",
                           details={"fields": {"cursor": [problem]}})


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


def _inflate(text: str) -> Any:
    padded = text + "=" * (-len(text) % 4)
    raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    inflater = zlib.decompressobj()
    data = inflater.decompress(raw, _MAX_INFLATED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError("too large")
    return json.loads(data)


def decode_cursor(text: str, *, user_id: int, filters: Filters) -> Snapshot:
    """The snapshot in `text`; 400 `invalid_cursor` for anything this server did not make for this query."""
    try:
        data = _inflate(text)
        if not isinstance(data, dict) or set(data) != {"u", "f", "p", "t", "k", "g", "r", "n"}:
            raise ValueError("wrong fields")
        rooms = {_int(room_id): from_micros(_int(key)) for room_id, key in data["r"]}
        pinned = {_int(gid): None if _int(key) == -1 else from_micros(_int(key)) for gid, key in data["n"]}
        snapshot = Snapshot(user_id=_int(data["u"]), filters=filters, inbox_pos=_int(data["p"]),
                            taken_at=from_micros(_int(data["t"])), key=from_micros(_int(data["k"])),
                            group_id=_int(data["g"]), rooms=rooms, pinned=pinned)
        same_filters = data["f"] == filters.as_list()
    except (ValueError, TypeError, OverflowError, UnicodeError, binascii.Error, zlib.error):
        raise invalid_cursor("Not a cursor of this list.") from None
    if snapshot.user_id != user_id or not same_filters:
        raise invalid_cursor("Made for another user or other filters.")
    if snapshot.inbox_pos < 0 or snapshot.group_id < 1:
        raise invalid_cursor("Not a cursor of this list.")
    return snapshot
