"""Client → server frames of `/ws`: parsing and validation (the frames we send are built in `frames.py`)."""
from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from chat.ws import frames
from core.errors import ApiError, ValidationError
from core.input import MAX_BIGINT, ROW_ID, SEQ, loads_strict


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")


class _Frame(ma.Schema):
    op = fields.String(required=True)


class SendFrame(_Frame):
    client_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), _no_nul])
    group_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    type = fields.String(required=True)
    body = fields.Dict(required=True)
    ext = fields.Dict(allow_none=True)
    # checked with the send (chat/messages/extras.py), as REST sends are
    reply_to = fields.Raw(allow_none=True)
    mentions = fields.Raw(allow_none=True)


class SyncFrame(_Frame):
    cursor = fields.String(required=True, allow_none=True)


class ReadFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    seq = fields.Integer(required=True, strict=True, validate=SEQ)


class TypingFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True, validate=ROW_ID)


class PingFrame(_Frame):
    pass


class EditFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    message_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    body = fields.Dict(required=True)


class ReactFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    message_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    emoji = fields.String(required=True, validate=validate.Length(min=1, max=32))


SCHEMAS: dict[str, ma.Schema] = {
    "send": SendFrame(), "sync": SyncFrame(), "read": ReadFrame(),
    "typing": TypingFrame(), "ping": PingFrame(), "edit": EditFrame(), "react": ReactFrame(),
    "unreact": ReactFrame(),
}


def parse_frame(raw: str | bytes) -> dict[str, Any]:
    """Decode and validate one client frame; ApiError (with a clear code) when it is not acceptable."""
    if isinstance(raw, bytes):
        raise ValidationError("Frames are JSON text, not binary.", code="invalid_frame")
    frame = _decode(raw)
    if not isinstance(frame, dict):
        raise ValidationError("A frame is a JSON object with an `op`.", code="invalid_frame")
    op = frame.get("op")
    schema = SCHEMAS.get(op) if isinstance(op, str) else None
    if schema is None:
        raise ValidationError(f"Unknown op {op!r}.", code="unknown_op",
                              details={"ops": sorted(SCHEMAS)})
    if op == "send" and _plainly_valid_send(frame):
        return frame
    try:
        return schema.load(frame)
    except ma.ValidationError as exc:
        raise ValidationError("The frame is not valid.", details={"fields": exc.messages}) from None


_SEND_KEYS = frozenset(SendFrame().fields)


def _plainly_valid_send(frame: dict[str, Any]) -> bool:
    """True for a `send` frame SendFrame would load unchanged (the hot path skips marshmallow); anything
    less plain goes through the schema, which has the final word and the error messages."""
    client_id, group_id, ext = frame.get("client_id"), frame.get("group_id"), frame.get("ext")
    return (frame.keys() <= _SEND_KEYS and type(client_id) is str and 0 < len(client_id) <= 64
            and "\x00" not in client_id and type(group_id) is int and 1 <= group_id <= MAX_BIGINT
            and type(frame.get("type")) is str and type(frame.get("body")) is dict
            and (ext is None or type(ext) is dict))


def _decode(raw: str) -> Any:
    """Strict JSON (core.input): no NaN/Infinity, NUL characters or unpaired surrogates."""
    try:
        return loads_strict(raw)
    except ValueError:
        raise ValidationError("The frame is not valid JSON (strict UTF-8, no NaN, Infinity or NUL).",
                              code="invalid_json") from None


def client_id_of(raw: str | bytes) -> str | None:
    """The `client_id` of a frame, when it has one, to echo in an error about it."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    value = frame.get("client_id") if isinstance(frame, dict) else None
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")  # an unpaired surrogate cannot go out in a text frame
    except UnicodeEncodeError:
        return None
    return value


#: what a client hears when an op failed on our side (details stay in the log)
INTERNAL_ERROR = ApiError("Something went wrong on our side.", status=500, code="internal_error")


def error_frame(exc: ApiError, client_id: str | None = None) -> str:
    """The `error` frame answering an op that raised `exc`."""
    return frames.error(exc.code, exc.message, exc.details, client_id=client_id)
