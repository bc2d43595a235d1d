"""How a WebSocket session ends: its close codes, the `error` frame sent first, and the periodic re-check.

A socket is authenticated once, at connect. Revocations and bans reach it at once as
broker controls (see `hub.py`, `publish_session_end`), and each process also re-reads the tokens of
all its sockets at every heartbeat (`watch.py`: one query per 500 tokens, not one per socket), so an
expired token, or a ban whose signal was lost, ends the session within one heartbeat.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select

from chat.ws import frames
from chat.ws.frames import CLOSE_BANNED, CLOSE_TOO_MANY_SOCKETS, CLOSE_UNAUTHORIZED
from core import error_codes
from core.db import db, utcnow
from marketplace.models import Token, User


@dataclass(frozen=True)
class SessionEnd:
    """Why a session ends: the close code and the `error` frame's code and message."""

    close_code: int
    error_code: str
    message: str

    def __post_init__(self) -> None:
        # 4401 and 4403 mirror HTTP 401 and 403; other close codes (1013, ...) have no HTTP twin.
        error_codes.check(self.error_code, self.close_code - 4000 if 4400 <= self.close_code < 4600 else None)

    def frame(self) -> str:
        return frames.error(self.error_code, self.message)


UNAUTHORIZED = SessionEnd(CLOSE_UNAUTHORIZED, "unauthorized", "A valid access token is required.")
TOKEN_ENDED = SessionEnd(CLOSE_UNAUTHORIZED, "unauthorized", "The access token has expired or was revoked.")
BANNED = SessionEnd(CLOSE_BANNED, "banned", "This account is banned.")
#: the user opened more sockets than WS_MAX_SOCKETS_PER_USER: their oldest one ends with this
TOO_MANY_SOCKETS = SessionEnd(CLOSE_TOO_MANY_SOCKETS, "too_many_sockets",
                              "This account opened too many connections; the oldest was closed.")


def session_end_for_close(code: int, reason: str | None = None) -> SessionEnd:
    """The end announced by a broker control (4401 a revoked token, 4403 a ban, 4429 past the socket cap)."""
    base = {CLOSE_BANNED: BANNED, CLOSE_TOO_MANY_SOCKETS: TOO_MANY_SOCKETS}.get(code, TOKEN_ENDED)
    return SessionEnd(code, base.error_code, reason or base.message)


#: tokens re-checked per query (well under every database's limit on bound parameters)
CHECK_CHUNK = 500


def ended_sessions(token_ids: Iterable[int]) -> dict[int, SessionEnd]:
    """Of `token_ids`, those whose session must end now (expired, revoked or deleted token, banned user),
    each with why; the live ones are left out. Needs an app context (it uses `db.session`)."""
    ids = sorted(set(token_ids))
    now = utcnow()
    ended: dict[int, SessionEnd] = {}
    for start in range(0, len(ids), CHECK_CHUNK):
        chunk = ids[start:start + CHECK_CHUNK]
        rows = db.session.execute(
            select(Token.id, Token.expires_at, Token.revoked_at, User.banned_at, User.banned_until)
            .join(User, User.id == Token.user_id).where(Token.id.in_(chunk))).all()
        found = set()
        for row in rows:
            found.add(row.id)
            if row.revoked_at is not None or row.expires_at <= now:
                ended[row.id] = TOKEN_ENDED
            elif User.is_banned(row, now):  # type: ignore[arg-type]  # the model's rule, on the columns just read
                ended[row.id] = BANNED
        ended.update((token_id, TOKEN_ENDED) for token_id in chunk if token_id not in found)
    return ended
