"""Every frame the server sends on `/ws`, and its close codes and reasons: the one place they are built.

Messages travel as JSON encoded once (`message_json`, by the publisher or the replay) and are spliced
into their frame here, never decoded and encoded again. `error` is the one error-frame builder: op
errors, refused sends and the errors sent before a close all come from it.
"""
from __future__ import annotations

from typing import Any

from core.jsontext import dumps  # compact JSON text, UTF-8 kept as is

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # the server is stopping, or the client stopped answering pings
CLOSE_TOO_BIG = 1009  # a client frame above WS_MAX_FRAME_BYTES
CLOSE_TRY_AGAIN = 1013  # a slow consumer, or the service unavailable: reconnect and sync
CLOSE_UNAUTHORIZED = 4401  # no valid token, or it expired or was revoked
CLOSE_BANNED = 4403
CLOSE_TOO_MANY_SOCKETS = 4429  # the user has as many sockets open as one user may

REASON_TOO_BIG = "Message is too big"
REASON_SLOW_CONSUMER = "slow consumer"
REASON_HEARTBEAT = "heartbeat timeout"
REASON_SHUTDOWN = "Server shutting down; reconnect and sync."


PONG = dumps({"op": "pong"})


def hello(*, user_id: int, server_time: float, heartbeat_s: float, cursor: str) -> str:
    return dumps({"op": "hello", "user_id": user_id, "server_time": server_time, "heartbeat_s": heartbeat_s,
                  "cursor": cursor})


def message(message_json: str, cursor: str | None = None) -> str:
    """A message; `cursor` is the recipient's position after it (None: a room's, live only)."""
    if cursor is None:
        return f'{{"op":"message","message":{message_json}}}'
    return f'{{"op":"message","message":{message_json},"cursor":{dumps(cursor)}}}'


def ack(client_id: str | None, message_json: str, cursor: str | None = None) -> str:
    """The answer to the client's `send`: its stored message (and cursor, except in rooms)."""
    if cursor is None:
        return f'{{"op":"ack","client_id":{dumps(client_id)},"message":{message_json}}}'
    return f'{{"op":"ack","client_id":{dumps(client_id)},"message":{message_json},"cursor":{dumps(cursor)}}}'


def synced(cursor: str, more: bool) -> str:
    """The end of one replay batch; `more`: ask again from `cursor` for the next."""
    return dumps({"op": "synced", "cursor": cursor, "more": more})


def event(type: str, data: dict[str, Any]) -> str:
    """A chat event (read, recall, group, member, typing, presence)."""
    return dumps({"op": "event", "type": type, "data": data})


def event_json(type: str, data_json: str) -> str:
    """An event whose data is JSON encoded already (once for every recipient)."""
    return f'{{"op":"event","type":{dumps(type)},"data":{data_json}}}'


def positioned_event(type: str, data_json: str, cursor: str) -> str:
    """An event at the recipient's inbox position (an edit, a reaction change); `data_json` is encoded once."""
    return f'{{"op":"event","type":{dumps(type)},"data":{data_json},"cursor":{dumps(cursor)}}}'


def event_prefix(type: str) -> str:
    """How every `event` frame of this type starts (`event` writes "op", then "type", first)."""
    return f'{{"op":"event","type":{dumps(type)}'


def error(code: str, message: str, details: Any = None, *, client_id: str | None = None) -> str:
    """An error in the API's error shape; `client_id` names the send it answers."""
    frame: dict[str, Any] = {"op": "error"}
    if client_id is not None:
        frame["client_id"] = client_id
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    frame["error"] = body
    return dumps(frame)
