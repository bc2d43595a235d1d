"""After-commit chat events → broker payloads on each recipient's user channel."""
from __future__ import annotations

from typing import Any

from flask import current_app

from chat.messages.views import encode_message
from chat.ws import frames
from chat.ws.hub import control_payload, frame_payload, positioned_payload, user_channel


def payloads_for(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, payload) pairs for one committed event; the message JSON is encoded once."""
    kind = event["type"]
    if kind == "message":
        message = event["message"]
        encoded = event.get("message_json") or encode_message(message)
        sender = message.get("sender")
        sender_id = sender["id"] if sender else None
        cursors = event["cursors"]
        out = []
        for uid in event["recipients"]:
            pos = cursors.get(uid)
            if pos is None:  # a room: live only, no cursor
                out.append((user_channel(uid), frame_payload(frames.message(encoded))))
            else:
                out.append((user_channel(uid), positioned_payload(pos, sender_id, message.get("client_id"), encoded)))
        return out
    data = {k: v for k, v in event.items() if k not in ("type", "recipients", "message_json")}
    frame = frame_payload(frames.event(kind, data))
    return [(user_channel(uid), frame) for uid in event.get("recipients", ())]


def publish_events(events: list[dict[str, Any]]) -> None:
    """The after-commit hook: publish one commit's chat events through the current app's broker, in one
    round trip."""
    items = [item for event in events for item in payloads_for(event)]
    if items:
        current_app.extensions["broker"].publish_many(items)


def publish_session_end(sender, *, user_id: int, token_id: int | None = None, **_kw: Any) -> None:
    """Signal receiver: a revoked token (4401) or a ban (4403) closes the user's sockets everywhere."""
    control = {"close": 4401, "token_id": token_id} if token_id is not None else {"close": 4403}
    current_app.extensions["broker"].publish(user_channel(user_id), control_payload(**control))
