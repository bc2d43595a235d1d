"""What clients may send: message types, one body schema per type, and the `ext` size cap."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from core import jsontext
from core.errors import ValidationError
from marketplace.uploads.urls import UploadUrl

TEXT_MAX = 2000
EXT_MAX_BYTES = 4096
CUSTOM_DATA_MAX_BYTES = 4096
CLIENT_ID_MAX = 64
#: types only the server writes (listing events, offers); clients get 400 for them
SERVER_TYPES = frozenset({"system", "offer"})
DURATION_MS = validate.Range(min=1, max=24 * 3600 * 1000)
PIXELS = validate.Range(min=1, max=100_000)


def json_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (how sizes of client JSON are measured)."""
    return len(jsontext.dumps(value).encode("utf-8"))


def _small_json(value: Any, limit: int) -> None:
    if json_size(value) > limit:
        raise ma.ValidationError(f"At most {limit} bytes of JSON.")


class StrictFloat(fields.Float):
    """A JSON number only: strings such as "31.2" are refused, not converted."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _strict_int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class TxtBody(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class ImgBody(ma.Schema):
    url = UploadUrl(required=True, kind="image")
    width = _strict_int(validate=PIXELS)
    height = _strict_int(validate=PIXELS)


class AudioBody(ma.Schema):
    url = UploadUrl(required=True, kind="audio")
    duration_ms = _strict_int(required=True, validate=DURATION_MS)


class VideoBody(ma.Schema):
    url = UploadUrl(required=True, kind="video")
    duration_ms = _strict_int(required=True, validate=DURATION_MS)
    thumb_url = UploadUrl(kind="image")


class LocationBody(ma.Schema):
    lat = StrictFloat(required=True, validate=validate.Range(min=-90, max=90))
    lng = StrictFloat(required=True, validate=validate.Range(min=-180, max=180))
    address = fields.String(validate=validate.Length(max=200))


class FileBody(ma.Schema):
    url = UploadUrl(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    size = _strict_int(required=True, validate=validate.Range(min=0))


class CustomBody(ma.Schema):
    event = fields.String(required=True, validate=validate.Length(min=1, max=64))
    data = fields.Dict(required=True, validate=lambda d: _small_json(d, CUSTOM_DATA_MAX_BYTES))


BODY_SCHEMAS: dict[str, ma.Schema] = {
    "txt": TxtBody(), "img": ImgBody(), "audio": AudioBody(), "video": VideoBody(),
    "location": LocationBody(), "file": FileBody(), "custom": CustomBody(),
}
CLIENT_TYPES = tuple(BODY_SCHEMAS)


def _invalid(field: str, problem: Any, *, code: str | None = None) -> ValidationError:
    return ValidationError("The message is not valid.", code=code, details={"fields": {field: problem}})


def validate_client_id(client_id: Any) -> str:
    """The client's idempotency key: a string of 1–64 characters."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX:
        raise _invalid("client_id", [f"A string of 1–{CLIENT_ID_MAX} characters."])
    return client_id


def validate_content(*, type: Any, body: Any, ext: Any) -> tuple[str, dict, dict | None]:
    """Check a client message's type, body and ext; returns them as they will be stored."""
    if type in SERVER_TYPES:
        raise _invalid("type", [f"{type!r} messages are made by the server."])
    schema = BODY_SCHEMAS.get(type) if isinstance(type, str) else None
    if schema is None:
        raise _invalid("type", [f"Must be one of: {', '.join(CLIENT_TYPES)}."])
    if not isinstance(body, dict):
        raise _invalid("body", ["Must be a JSON object."])
    if type == "txt" and _plain_text(body):  # the common case, without marshmallow (same verdict)
        return type, {"text": body["text"]}, validate_ext(ext)
    try:
        loaded = schema.load(body)
    except ma.ValidationError as exc:
        raise _invalid("body", exc.messages) from None
    return type, loaded, validate_ext(ext)


def _plain_text(body: dict[str, Any]) -> bool:
    """True for a `txt` body TxtBody loads unchanged: only `text`, a string of 1 to TEXT_MAX characters."""
    text = body.get("text")
    return len(body) == 1 and type(text) is str and 0 < len(text) <= TEXT_MAX


def validate_ext(ext: Any) -> dict | None:
    """A message's `ext`: null or a JSON object of at most 4 KB (400 `ext_too_large` beyond)."""
    if ext is not None:
        if not isinstance(ext, dict):
            raise _invalid("ext", ["Must be a JSON object or null."])
        if json_size(ext) > EXT_MAX_BYTES:
            raise _invalid("ext", [f"At most {EXT_MAX_BYTES} bytes of JSON."], code="ext_too_large")
    return ext
