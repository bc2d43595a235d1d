"""Client → server frames of `/ws`: parsing and validation, and the error frame."""
from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from core.errors import ApiError, ValidationError
from chat.ws.connection import dumps


class _Frame(ma.Schema):
    op = fields.String(required=True)


class SendFrame(_Frame):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    group_id = fields.Integer(required=True, strict=True)
    type = fields.String(required=True)
    body = fields.Dict(required=True)
    ext = fields.Dict(allow_none=True)


class SyncFrame(_Frame):
    cursor = fields.String(required=True, allow_none=True)


class ReadFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True)
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class TypingFrame(_Frame):
    group_id = fields.Integer(required=True, strict=True)


class PingFrame(_Frame):
    pass


SCHEMAS: dict[str, ma.Schema] = {
    "send": SendFrame(), "sync": SyncFrame(), "read": ReadFrame(),
    "typing": TypingFrame(), "ping": PingFrame(),
}


def parse_frame(raw: str | bytes) -> dict[str, Any]:
    """Decode and validate one client frame; ApiError (with a clear code) when it is not acceptable."""
    if isinstance(raw, bytes):
        raise ValidationError("Frames are JSON text, not binary.", code="invalid_frame")
    try:
        frame = json.loads(raw)
    except ValueError:
        raise ValidationError("The frame is not valid JSON.", code="invalid_json") from None
    if not isinstance(frame, dict):
        raise ValidationError("A frame is a JSON object with an `op`.", code="invalid_frame")
    op = frame.get("op")
    schema = SCHEMAS.get(op) if isinstance(op, str) else None
    if schema is None:
        raise ValidationError(f"Unknown op {op!r}.", code="unknown_op",
                              details={"ops": sorted(SCHEMAS)})
    try:
        return schema.load(frame)
    except ma.ValidationError as exc:
        raise ValidationError("The frame is not valid.", details={"fields": exc.messages}) from None


def error_frame(exc: ApiError, client_id: str | None = None) -> str:
    frame: dict[str, Any] = {"op": "error"}
    if client_id is not None:
        frame["client_id"] = client_id
    frame["error"] = {"code": exc.code, "message": exc.message, "details": exc.details}
    return dumps(frame)
