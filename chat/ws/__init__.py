"""The WebSocket relay: `/ws`, per-socket delivery, the process hub and publishing after commit."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Mount `/ws`, track presence, publish committed chat events, and end sessions on token
    revocation or ban."""
    from chat import presence
    from chat.events import after_commit_batch_hooks
    from chat.ws import asyncapi, endpoint
    from chat.ws.publish import publish_events, publish_session_end
    from marketplace.signals import token_revoked, user_banned

    presence.init_app(app)
    endpoint.init_app(app)
    asyncapi.init_app(app)
    if publish_events not in after_commit_batch_hooks:
        after_commit_batch_hooks.append(publish_events)
    token_revoked.connect(publish_session_end)
    user_banned.connect(publish_session_end)
