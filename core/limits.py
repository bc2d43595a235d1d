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


def _is_large_body_view(view: Callable | None) -> bool:
    return view is not None and getattr(view, _LARGE_BODY_ATTR, False)


def register_body_limits(app: Flask) -> None:
    @app.before_request
    def _cap_body() -> None:
        large = _is_large_body_view(app.view_functions.get(request.endpoint or ""))
        limit = app.config["MAX_CONTENT_LENGTH" if large else "JSON_MAX_BYTES"]
        # A declared length is refused before a byte is read. A streamed (chunked)
        # upload is cut off by Werkzeug's form parser at the limit while it is read.
        request.max_content_length = limit
        length = request.content_length
        too_large = length is not None and length > limit
        if length is None and not large and request.headers.get("Transfer-Encoding"):
            # Read whole, a streamed body would be silently truncated at the limit:
            # read one byte more (the limit is small) and refuse the body if it came.
            request.max_content_length = limit + 1
            too_large = len(request.get_data(cache=True)) > limit
        if too_large:
            raise PayloadTooLarge(f"Request bodies here are limited to {limit} bytes.",
                                  details={"limit": limit})
