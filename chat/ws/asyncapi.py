"""`/ws` as an AsyncAPI 3 document, served at `/api/v1/asyncapi.json`.

The frames reuse the OpenAPI document's schemas (`Message`, `UserSummary`, the message bodies and
the `SendMessage` variants), copied in as plain JSON Schema, so REST and WebSocket describe one
message the same way. The document is built once per app; only `servers` follows the request's host.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import Flask, request

from chat.ws.protocol import SCHEMAS as CLIENT_OPS
from core.api import Blueprint, openapi_document
from core.current import this_app
from core.input import MAX_BIGINT, MAX_INT
from core.openapi import to_json_schema

DOCUMENT_KEY = "asyncapi_document"
CHANNEL = "chat"
SCHEMAS = "#/components/schemas/"
ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT}
SEQ = {"type": "integer", "minimum": 0, "maximum": MAX_INT}
CURSOR = {"type": "string", "minLength": 1, "description": "opaque; keep the last one seen and resume from it"}

bp = Blueprint("asyncapi", __name__, description="The WebSocket protocol of /ws, as an AsyncAPI 3 document")


def _frame(op: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["op", *required],
            "properties": {"op": {"const": op}, **properties}}


def _event(kind: str, data: dict[str, Any], description: str, optional: tuple[str, ...] = (),
           positioned: bool = False) -> dict[str, Any]:
    # `data` may gain fields: a client reads the ones it knows.
    payload = {"type": "object", "required": [k for k in data if k not in optional], "properties": data}
    extra = {"cursor": CURSOR} if positioned else {}
    return {**_frame("event", {"type": {"const": kind}, "data": payload, **extra}, ("type", "data")),
            "description": description}


REACTIONS = {"type": "array", "items": {"$ref": SCHEMAS + "Reaction"}}


EVENTS = {
    "presence": _event("presence", {"user_id": ROW_ID, "online": {"type": "boolean"}},
                       "a peer of one of your item or direct chats came online or went offline"),
    "typing": _event("typing", {"group_id": ROW_ID, "user_id": ROW_ID}, "a member is typing"),
    "read": _event("read", {"group_id": ROW_ID, "user_id": ROW_ID, "seq": SEQ}, "a member's read marker moved"),
    "recall": _event("recall", {"group_id": ROW_ID, "message": {"$ref": SCHEMAS + "Message"}, "by": ROW_ID},
                     "a message was recalled (its body is now {})"),
    "group": _event("group", {"group_id": ROW_ID, "kind": {"type": "string"}, "action": {"const": "created"}},
                    "an admin opened a group for you"),
    "member": _event("member", {"group_id": ROW_ID, "user_id": ROW_ID, "role": {"type": ["string", "null"]},
                                "action": {"enum": ["added", "role_changed", "removed"]}},
                     "an admin changed a room's members (`role` is null for a removal)"),
    **{kind: _event(kind, {"group_id": ROW_ID, "group_kind": {"enum": ["group", "room"]},
                           "by": {"type": ["integer", "null"]}, **fields}, description)
       for kind, fields, description in (
           ("member_joined", {"user_ids": {"type": "array", "items": ROW_ID}},
            "users joined a user group or room (invited, added or on their own)"),
           ("member_left", {"user_id": ROW_ID}, "a member left"),
           ("member_removed", {"user_id": ROW_ID}, "a member was removed (kicked from a room)"),
           ("role_changed", {"user_id": ROW_ID, "role": {"enum": ["owner", "admin", "member"]}},
            "a member's role changed (ownership handed over, admin granted or revoked)"),
           ("member_muted", {"user_id": ROW_ID, "muted_until": {"type": ["string", "null"]}},
            "a member was muted until a time (null: unmuted)"),
           ("group_renamed", {"name": {"type": "string"}}, "the group's name changed"),
           ("group_dissolved", {}, "the group was dissolved: read-only from now on"))},
    "edit": _event("edit", {"message": {"$ref": SCHEMAS + "Message"}},
                   "a message was edited: `message` as it is now (same seq, `edited_at`, `revision`). In item, "
                   "direct and user groups it is an entry of your inbox: `cursor` is your position after it "
                   "(resume and sync replay it once, in order); rooms: live only, no cursor", positioned=True),
    "reaction": _event("reaction", {
        "group_id": ROW_ID, "message_id": ROW_ID, "seq": SEQ, "reactions": REACTIONS,
        "change": {"type": "object", "required": ["user_id", "emoji", "action"], "properties": {
            "user_id": ROW_ID, "emoji": {"type": "string"}, "action": {"enum": ["add", "remove"]}}}},
        "a message's reactions changed: all of them now (`me`: yours among them) and the `change`. An inbox "
        "entry with a `cursor` like `edit`; a replay (sync, resume) carries the reactions as they are then, "
        "without `change`", optional=("change",), positioned=True),
    "unread": _event("unread", {"unread_total": {"type": "integer", "minimum": 0},
                                "unread_version": {"type": "integer", "minimum": 1}},
                     "your badge changed: unread messages in item, direct and group chats that are not muted. "
                     "`unread_version` is one more with each change: keep the total of the highest version seen "
                     "(GET /conversations answers one too)"),
}


def _server_frames() -> dict[str, dict[str, Any]]:
    message = {"$ref": SCHEMAS + "Message"}
    return {
        "hello": _frame("hello", {"user_id": ROW_ID, "server_time": {"type": "number"},
                                  "heartbeat_s": {"type": "number"}, "cursor": CURSOR},
                        ("user_id", "server_time", "heartbeat_s", "cursor")),
        "message": _frame("message", {"message": message, "cursor": CURSOR}, ("message",)),
        # A room's messages are live only: their frames carry no cursor.
        "ack": _frame("ack", {"client_id": {"type": "string"}, "message": message, "cursor": CURSOR},
                      ("client_id", "message")),
        "event": {"oneOf": [{"$ref": SCHEMAS + f"WsEvent{kind.capitalize()}"} for kind in EVENTS]},
        "synced": _frame("synced", {"cursor": CURSOR, "more": {"type": "boolean"}}, ("cursor", "more")),
        "pong": _frame("pong", {}),
        "error": _frame("error", {"client_id": {"type": "string"}, "error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
            ("error",)),
    }


def _send_frame(openapi_schemas: dict[str, Any]) -> dict[str, Any]:
    """`send`: OpenAPI's SendMessage (one variant per type) with `op` and `group_id` added."""
    variants = []
    for variant in copy.deepcopy(openapi_schemas["SendMessage"]["oneOf"]):
        variant["properties"] = {"op": {"const": "send"}, "group_id": ROW_ID, **variant["properties"]}
        variant["required"] = sorted({"op", "group_id", *variant["required"]})
        variants.append(variant)
    return {"oneOf": variants}


def _client_frames(openapi_schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    frames = {
        "send": _send_frame(openapi_schemas),
        "sync": _frame("sync", {"cursor": {"anyOf": [CURSOR, {"type": "null"}]}}, ("cursor",)),
        "read": _frame("read", {"group_id": ROW_ID, "seq": SEQ}, ("group_id", "seq")),
        "typing": _frame("typing", {"group_id": ROW_ID}, ("group_id",)),
        "ping": _frame("ping", {}),
        "edit": _frame("edit", {"group_id": ROW_ID, "message_id": ROW_ID,
                                "body": {"$ref": SCHEMAS + "TxtMessageBody"}}, ("group_id", "message_id", "body")),
        **{op: _frame(op, {"group_id": ROW_ID, "message_id": ROW_ID, "emoji": {"type": "string", "minLength": 1}},
                      ("group_id", "message_id", "emoji")) for op in ("react", "unreact")},
    }
    assert set(frames) == set(CLIENT_OPS), "every op the server parses is described"
    return frames


SERVER_SUMMARIES = {
    "hello": "First frame: who you are, the heartbeat, and your latest cursor (where a new device starts).",
    "message": "A message in one of your groups (your other devices' included); room messages carry no cursor.",
    "ack": "The answer to your `send`: the stored message (the first one, for a repeated client_id).",
    "event": "A group, member, membership (user groups and rooms), recall, edit, reaction, read, typing, presence or unread (badge) event.",  # noqa: E501
    "synced": "The end of a replay batch (`more`: ask again from this cursor).",
    "pong": "The answer to `ping`.",
    "error": "A frame could not be served (the socket stays open), or, before a close, why the session ends.",
}
CLIENT_SUMMARIES = {
    "send": "Send a message (`body` follows `type`, as POST /groups/{group_id}/messages).",
    "sync": "Replay every message after `cursor` (null: from the beginning), in batches ending in `synced`.",
    "read": "Move your read marker in a group.",
    "typing": "Tell a group's members you are typing.",
    "ping": "Ask for a `pong`.",
    "edit": "Edit your `txt` message (as PATCH /groups/{group_id}/messages/{message_id}); answered by the "
            "`edit` event, or an `error` frame.",
    "react": "Add your reaction (as PUT …/reactions/{emoji}); answered by the `reaction` event when it changed.",
    "unreact": "Remove your reaction (as DELETE …/reactions/{emoji}); answered by the `reaction` event when it "
               "changed.",
}
CHANNEL_DESCRIPTION = (
    "Authenticate with `Authorization: Bearer <token>`, a single-use `?ticket=` (POST /api/v1/ws/ticket) or "
    "`?access_token=`; `?cursor=` resumes after a cursor "
    "(a replay ending in `synced` comes before anything live). Frames are JSON text. Close codes: 4401 bad or "
    "revoked token, 4403 banned, 4429 the user's oldest socket past WS_MAX_SOCKETS_PER_USER (each after an "
    "`error` frame), 1001 server going away (reconnect and resume), 1009 frame too large, 1013 try again later. "
    "The upgrade itself may be refused with HTTP 429 (`rate_limited`: too many failed handshakes from the "
    "address; `too_many_handshakes`: too many in flight from it) or 503 (`service_unavailable`: the process "
    "is full), each with Retry-After.")


def build(openapi: dict[str, Any]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `/ws`, from the app's OpenAPI document (dict)."""
    openapi_schemas = openapi["components"]["schemas"]
    schemas = {name: to_json_schema(schema) for name, schema in openapi_schemas.items()}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for action, frames, summaries in (("send", _server_frames(), SERVER_SUMMARIES),
                                      ("receive", _client_frames(openapi_schemas), CLIENT_SUMMARIES)):
        for op, payload in frames.items():
            name = f"Ws{op.capitalize()}{'Frame' if action == 'send' else 'Op'}"
            schemas[name] = to_json_schema(payload)
            key = f"{op}{'Frame' if action == 'send' else 'Op'}"
            messages[key] = {"name": op, "title": f"{op} ({'server to client' if action == 'send' else 'client to server'})",  # noqa: E501
                             "summary": summaries[op], "contentType": "application/json",
                             "payload": {"$ref": SCHEMAS + name}}
            operations[f"{action}{op.capitalize()}"] = {
                "action": action, "channel": {"$ref": f"#/channels/{CHANNEL}"}, "summary": summaries[op],
                "messages": [{"$ref": f"#/channels/{CHANNEL}/messages/{key}"}]}
    for kind, schema in EVENTS.items():
        schemas[f"WsEvent{kind.capitalize()}"] = schema
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "PaiPai chat WebSocket", "version": openapi["info"]["version"],
                 "description": "The `/ws` protocol. Message schemas are those of the REST API "
                                "(/api/v1/openapi.json). Operations are the server's: it sends the frames a "
                                "client receives, and receives the ops a client sends."},
        "channels": {CHANNEL: {"address": "/ws", "description": CHANNEL_DESCRIPTION,
                               "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
                               "bindings": {"ws": {"method": "GET", "query": {
                                   "type": "object", "properties": {"ticket": {"type": "string"},
                                                                    "access_token": {"type": "string"},
                                                                    "cursor": CURSOR}}}}}},
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def document(app: Flask) -> dict[str, Any]:
    """The app's AsyncAPI document (built once), with `servers` for the current request's host."""
    built = app.extensions.get(DOCUMENT_KEY)
    if built is None:
        built = app.extensions[DOCUMENT_KEY] = build(openapi_document(app))
    secure = request.scheme == "https"
    return {**built, "servers": {"api": {"host": request.host, "protocol": "wss" if secure else "ws"}}}


@bp.get("/asyncapi.json")
@bp.response(200, description="An AsyncAPI 3.0 document")
@bp.doc(responses={"200": {"content": {"application/json": {"schema": {"type": "object"}}}}})
def asyncapi():
    """The WebSocket protocol of `/ws` as an AsyncAPI 3 document."""
    return document(this_app())


def init_app(app: Flask) -> None:
    from core.api import api
    api.register_blueprint(bp, url_prefix="/api/v1")
