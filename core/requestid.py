"""Request ids: the client's X-Request-ID (when sane) or a new one, echoed in the response and error bodies."""
from __future__ import annotations

import re
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")  # anything else (a log injection, a novel) is replaced


def request_id() -> str | None:
    """The current request's id (made on first use), None outside a request."""
    if not has_request_context():
        return None
    rid = g.get("request_id")
    if rid is None:
        supplied = request.headers.get(HEADER, "")
        rid = supplied if _SANE.fullmatch(supplied) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def _echo(response: Response) -> Response:
    rid = request_id()
    assert rid is not None
    response.headers[HEADER] = rid
    if response.status_code >= 400 and response.is_json and not response.direct_passthrough:
        body = response.get_json(silent=True)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("details", {}), dict):
            error["details"] = {**(error.get("details") or {}), "request_id": rid}
            response.set_data(current_app.json.dumps(body))
    return response


def init_app(app: Flask) -> None:
    app.after_request(_echo)
