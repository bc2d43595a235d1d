"""How a WebSocket session ends: its close codes, the `error` frame sent first, and the periodic re-check.

A socket is authenticated once, at connect. Revocations and bans reach it at once as
broker controls (see `hub.py`, `publish_session_end`), and the writer also re-reads the token at every
heartbeat (one primary-key lookup), so an expired token, or a ban whose signal was
lost, ends the session within one heartbeat.
"""
from __future__ import annotations

from dataclasses import dataclass

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


def check_session(token_id: int) -> SessionEnd | None:
    """None while the token is live and its user not banned; otherwise why the session ends.

    Needs an app context (it uses `db.session`)."""
    row = db.session.execute(
        select(Token.expires_at, Token.revoked_at, User.banned_at, User.banned_until)
        .join(User, User.id == Token.user_id).where(Token.id == token_id)).one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return TOKEN_ENDED
    if User.is_banned(row, now):  # type: ignore[arg-type]  # the same rule as the model's, on the columns just read
        return BANNED
    return None
