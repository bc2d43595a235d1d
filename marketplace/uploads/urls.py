"""URLs of our own uploads: building them, and recognising them in client input."""
from __future__ import annotations

import re
from contextvars import ContextVar
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from marshmallow import ValidationError, fields
from sqlalchemy import select

from core.db import db
from marketplace.models import Upload

UPLOAD_PATH = "/api/v1/uploads/"
# \Z, not $: "$" would also accept a trailing newline.
NAME_RE = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,5}\Z")
# urlsplit (like browsers) silently drops tabs and newlines and strips leading blanks: refuse them instead
# of storing a URL that is not the one we checked.
BLANK_OR_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")


#: the base URL of the request a piece of work came from, for work done outside that request (the
#: WebSocket send queue validates a socket's messages on its own thread)
_work_base_url: ContextVar[str | None] = ContextVar("upload_work_base_url", default=None)


class request_base_url:  # noqa: N801 - used as a function: `with request_base_url(url):`
    """Recognise and build upload URLs as inside a request to `url` (None: the current request's, if any).

    A class, not a generator context manager: the send queue enters one per message."""

    __slots__ = ("_url", "_token")

    def __init__(self, url: str | None) -> None:
        self._url = url

    def __enter__(self) -> None:
        self._token = _work_base_url.set(self._url)

    def __exit__(self, *exc: object) -> None:
        _work_base_url.reset(self._token)


def current_base_url() -> str | None:
    """The base URL uploads are recognised against here, None outside any request."""
    base = _base_url()
    return base or None


def _base_url() -> str:
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    carried = _work_base_url.get()
    if carried:
        return carried.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return ""


def upload_url(name: str) -> str:
    """The absolute URL an upload is served at."""
    return f"{_base_url()}{UPLOAD_PATH}{name}"


def own_upload_name(url: str) -> str | None:
    """The stored file name if `url` points at one of this service's uploads, else None."""
    if BLANK_OR_CONTROL_RE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host ("Invalid IPv6 URL"): not a URL of ours
        return None
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(_base_url()).netloc:
            return None
    if parts.query or parts.fragment or not parts.path.startswith(UPLOAD_PATH):
        return None
    name = parts.path[len(UPLOAD_PATH):]
    return name if NAME_RE.match(name) else None


#: what the OpenAPI document says an upload URL looks like (absolute, or the path alone)
URL_PATTERN = r"^(https?://[^/?#\s]+)?/api/v1/uploads/[0-9a-f]{32}\.[a-z0-9]{2,5}$"
#: what an upload of each kind is, for the error that names the kind expected
MEDIA_KINDS = {"image": "an image", "audio": "an audio file", "video": "a video"}


class UploadUrl(fields.String):
    """A string field that only accepts URLs of uploads that exist on this service; with `kind`
    ("image", "audio" or "video"), only uploads whose sniffed content type is of that kind."""

    def __init__(self, *, kind: str | None = None, **kwargs) -> None:
        if kind is not None and kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}")
        what = MEDIA_KINDS[kind] if kind is not None else "an upload"
        metadata = {"pattern": URL_PATTERN, "description": f"the `url` of {what} uploaded to this service "
                                                           "(POST /uploads) that exists",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.kind = kind

    def _deserialize(self, value, attr, data, **kwargs):
        url = super()._deserialize(value, attr, data, **kwargs)
        name = own_upload_name(url)
        if name is None:
            raise ValidationError("Must be the URL of a file uploaded to this service (POST /uploads).")
        content_type = db.session.scalar(select(Upload.content_type).where(Upload.name == name))
        if content_type is None:
            raise ValidationError("No such upload.")
        if self.kind is not None and content_type.partition("/")[0] != self.kind:
            raise ValidationError(f"Must be the URL of {MEDIA_KINDS[self.kind]}; this upload is {content_type}.")
        return url
