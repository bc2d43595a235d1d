"""The HTTP servers' own limits, and their errors in our JSON shape (gunicorn; the dev server in core.dev_server).

A request line or header the server refuses never reaches Flask, so the server writes the
answer itself: these hooks make it the contract's `{"error": {...}}` body, never an HTML page.
Kept free of Flask and Werkzeug imports: gunicorn.conf.py loads it in the master, before gevent
patches the standard library in the workers.
"""
from __future__ import annotations

import json
from http import HTTPStatus

#: longest request line (method, path with query, version) in bytes: gunicorn's maximum
LIMIT_REQUEST_LINE = 8190
#: most header fields in one request
LIMIT_REQUEST_FIELDS = 100
#: longest header field (name and value) in bytes
LIMIT_REQUEST_FIELD_SIZE = 8190

# The codes of core/error_codes.py (HTTP_STATUS_CODES, and `http_error` for any other HTTP-level status),
# written out here: this module imports nothing of the app (see the module docstring).
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
          416: "requested_range_not_satisfiable", 429: "rate_limited", 500: "internal_error",
          503: "service_unavailable"}
OTHER_HTTP_ERROR = "http_error"
_MESSAGES = {
    414: f"The request line is longer than {LIMIT_REQUEST_LINE} bytes.",
    431: f"The request has more than {LIMIT_REQUEST_FIELDS} header fields or one longer than "
         f"{LIMIT_REQUEST_FIELD_SIZE} bytes.",
}


def error_code(status: int) -> str:
    """The stable code of an error the HTTP server itself answers with."""
    return _CODES.get(status, OTHER_HTTP_ERROR)


def error_body(status: int) -> bytes:
    """The contract's error body for a request the HTTP server refused (the request is never echoed)."""
    message = _MESSAGES.get(status) or f"{HTTPStatus(status).phrase}: the HTTP server refused the request."
    return json.dumps({"error": {"code": error_code(status), "message": message, "details": {}}}).encode()


def error_response(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 response (connection closed) carrying `error_body(status)`."""
    body = error_body(status)
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def install_gunicorn_json_errors() -> None:
    """Make gunicorn answer the requests it refuses (400, 414, 431, ...) with JSON, not HTML."""
    from gunicorn import util  # type: ignore[import-untyped]

    def write_error(sock, status_int: int, reason: str, _mesg: str) -> None:
        util.write_nonblock(sock, error_response(int(status_int), reason))

    util.write_error = write_error
