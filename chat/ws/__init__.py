"""The WebSocket relay: `/ws`, per-socket delivery, the process hub and publishing after commit."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Mount `/ws`, track presence, publish committed chat events, and end sessions on token
    revocation or ban."""
    from chat import presence
    from chat.ws import asyncapi, endpoint
    from chat.ws.hub import publish_events, publish_session_end
    from core.db import db
    from marketplace.signals import token_revoked, user_banned

    presence.init_app(app)
    endpoint.init_app(app)
    asyncapi.init_app(app)
    db.set_publisher(app, publish_events)
    token_revoked.connect(publish_session_end)
    user_banned.connect(publish_session_end)
