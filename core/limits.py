"""Request body caps: a tight one (JSON_MAX_BYTES) for every view, the transport cap for upload views."""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Flask, request

from core.errors import PayloadTooLarge

F = TypeVar("F", bound=Callable)
_LARGE_BODY_ATTR = "_accepts_large_body"


def accepts_large_body(func: F) -> F:
    """Mark a view that takes bodies up to MAX_CONTENT_LENGTH (uploads) instead of JSON_MAX_BYTES."""
    setattr(func, _LARGE_BODY_ATTR, True)
    return func


def body_limit(app: Flask, view: Callable | None) -> int:
    """The largest request body `view` accepts, in bytes."""
    if view is not None and getattr(view, _LARGE_BODY_ATTR, False):
        return app.config["MAX_CONTENT_LENGTH"]
    return app.config["JSON_MAX_BYTES"]


def register_body_limits(app: Flask) -> None:
    @app.before_request
    def _cap_body() -> None:
        limit = body_limit(app, app.view_functions.get(request.endpoint or ""))
        # A declared length is refused before a byte is read; a streamed (chunked)
        # body is cut off by Werkzeug at the same limit while it is being read.
        request.max_content_length = limit
        length = request.content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(f"Request bodies here are limited to {limit} bytes.",
                                  details={"limit": limit})
