"""Requests the HTTP server refuses before Flask sees them are answered in the contract's JSON shape,
by gunicorn (the production command) and by the development server, with the same limits."""
from __future__ import annotations

import json
import socket
from contextlib import contextmanager

import pytest

from core.error_codes import status_agrees
from core.server_limits import LIMIT_REQUEST_FIELD_SIZE, LIMIT_REQUEST_FIELDS, LIMIT_REQUEST_LINE, error_code
from tests.support.servers import GunicornServer
from tests.support.wsclient import serve


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` on a fresh connection; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
            if b"\r\n\r\n" in data and len(body) >= int(headers.get("Content-Length", "-1")) >= 0:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def get(path: str, *extra_headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: localhost", "Connection: close", *extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def assert_json_error(answer: tuple[int, dict, bytes], status: int, code: str | None = None) -> dict:
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"].startswith("application/json"), headers
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    if code:
        assert error["code"] == code
    return error


@contextmanager
def gunicorn(tmp_path, database_url):
    with GunicornServer(tmp_path, database_url=database_url) as server:
        yield server.port


@contextmanager
def dev_server(app):
    with serve(app) as server:
        yield int(server.url.rsplit(":", 1)[1])


@pytest.fixture(params=["gunicorn", "werkzeug"])
def port(request, clean_app, database_url, tmp_path):
    servers = {"gunicorn": lambda: gunicorn(tmp_path, database_url), "werkzeug": lambda: dev_server(clean_app)}
    with servers[request.param]() as bound:
        yield bound


@pytest.mark.slow
def test_refused_requests_are_json_errors_with_the_same_limits(port):
    too_long = "/api/v1/listings?q=" + "a" * LIMIT_REQUEST_LINE
    assert_json_error(exchange(port, get(too_long)), 414, "http_error")
    big_header = "X-Big: " + "a" * LIMIT_REQUEST_FIELD_SIZE
    assert_json_error(exchange(port, get("/api/v1/listings", big_header)), 431, "http_error")
    many = [f"X-N{i}: 1" for i in range(LIMIT_REQUEST_FIELDS + 5)]
    assert_json_error(exchange(port, get("/api/v1/listings", *many)), 431, "http_error")
    status, headers, body = exchange(port, b"GET /api/v1/listings HTTP/9.9\r\nHost: x\r\n\r\n")
    assert status in (400, 505)  # gunicorn: a bad request line; Werkzeug: an unsupported version
    assert_json_error((status, headers, body), status, "bad_request" if status == 400 else "http_error")


@pytest.mark.slow
def test_within_the_limits_the_app_answers_even_the_longest_documented_query(port):
    # The longest cursor the document allows, with every other parameter: the app judges it (400
    # invalid_cursor), the HTTP server does not refuse the line.
    from chat.conversations.cursor import MAX_CURSOR_CHARS
    path = (f"/api/v1/conversations?kind=item&listing_id=9223372036854775807&archived=true&limit=100"
            f"&cursor={'A' * MAX_CURSOR_CHARS}")
    status, _headers, body = exchange(port, get(path))
    assert status == 401, body  # unauthenticated: the app answered, the request line was accepted
    status, _headers, body = exchange(port, get("/api/v1/listings?q=" + "a" * 51))
    assert status == 400 and json.loads(body)["error"]["code"] == "validation_error"


def test_the_servers_codes_are_those_of_the_registry():
    from core.error_codes import HTTP_STATUS_CODES, OTHER_HTTP_STATUSES
    for status in (*HTTP_STATUS_CODES, *OTHER_HTTP_STATUSES):
        assert status_agrees(error_code(status), status), status
