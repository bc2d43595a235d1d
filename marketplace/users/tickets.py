"""Single-use WebSocket tickets: trade the bearer token (in a header) for a short-lived ticket a client may
put in the `/ws` URL, where a token must never go (URLs end up in logs and browser history)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from core.db import db, utcnow
from core.errors import Unauthorized
from marketplace.models import Token, WsTicket
from marketplace.security import token_digest
from marketplace.users.services import live_token


def ticket_ttl_s() -> int:
    return int(current_app.config["WS_TICKET_TTL_S"])


def issue_ws_ticket(*, access_token: str) -> dict[str, object]:
    """A new ticket bound to the live `access_token` (401 otherwise), valid once for WS_TICKET_TTL_S seconds."""
    token = live_token(access_token)
    if token is None:
        raise Unauthorized("A valid bearer token is required.")
    raw = secrets.token_urlsafe(32)
    now, ttl = utcnow(), ticket_ttl_s()
    with db.transaction() as s:
        s.execute(delete(WsTicket).where(WsTicket.expires_at <= now))  # the table holds live tickets only
        s.add(WsTicket(ticket_hash=token_digest(raw), token_id=token.id, expires_at=now + timedelta(seconds=ttl)))
    return {"ticket": raw, "expires_in": ttl}


def redeem_ws_ticket(raw: str) -> Token | None:
    """The live token behind an unexpired ticket, which is used up by this call; None otherwise.

    One DELETE ... RETURNING: of two processes redeeming the same ticket at once, one gets it."""
    with db.transaction() as s:
        token_id = s.scalar(delete(WsTicket).where(WsTicket.ticket_hash == token_digest(raw),
                                                   WsTicket.expires_at > utcnow())
                            .returning(WsTicket.token_id))
    if token_id is None:
        return None
    token = db.session.scalar(select(Token).where(Token.id == token_id))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token
