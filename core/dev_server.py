"""The development server (`python app.py`): Werkzeug's, with gunicorn's request limits and JSON errors."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from core.server_limits import LIMIT_REQUEST_FIELD_SIZE, LIMIT_REQUEST_LINE, error_body


class JsonErrorRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, refusing what gunicorn refuses and answering refusals as JSON, not HTML."""

    def parse_request(self) -> bool:
        if len(self.raw_requestline.rstrip(b"\r\n")) > LIMIT_REQUEST_LINE:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return False
        if not super().parse_request():  # it answers a bad line or too many headers (431) itself
            return False
        if any(len(name) + len(value) + 2 > LIMIT_REQUEST_FIELD_SIZE for name, value in self.headers.items()):
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = error_body(int(code))
        # A refused request line leaves the version at HTTP/0.9, which would send the body alone:
        # the status line and Content-Type go out in any case.
        self.request_version = self.request_version if self.request_version.startswith("HTTP/1") else "HTTP/1.0"
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, HTTPStatus(code).phrase)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)


def dev_server_options() -> dict[str, Any]:
    """Keyword arguments for `app.run` / `werkzeug.serving.make_server`: threads and the JSON error handler."""
    return {"threaded": True, "request_handler": JsonErrorRequestHandler}
