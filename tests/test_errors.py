"""One JSON error body everywhere: routing, methods, body limits, bad JSON, crashes, auth, UTF-8."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.db import db, utcnow
from core.errors import Conflict
from tests.factories import PASSWORD
from tests.support.apps import make_app

UNREACHABLE_DB = "postgresql+psycopg://127.0.0.1:1/none"
JSON_TYPE = "application/json; charset=utf-8"



def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON_TYPE
    body = r.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


@pytest.fixture
def crashing_app(clean_app, database_url, tmp_path):
    """A second app on the test database with throwaway routes that fail in various ways."""
    app = make_app(tmp_path, database_url)

    @app.get("/boom")
    def boom():
        raise RuntimeError("SELECT password_hash FROM users -- Traceback secret")

    @app.get("/boom-sql")
    def boom_sql():
        db.session.execute(text("SELECT secret_column FROM no_such_table_xyz"))

    @app.get("/cjk-conflict")
    def cjk_conflict():
        raise Conflict("这个商品已经卖出了 🎉", details={"标题": "二手 iPhone 🍎"})

    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/api/v1/nope", "/nope", "/api/v1/users/abc", "/api/v1/", "/favicon.ico"])
def test_unknown_paths_are_json_404_even_for_browsers(client, path):
    assert_error(client.get(path, headers={"Accept": "text/html"}), 404, "not_found")


@pytest.mark.parametrize("method, path, allowed", [
    ("delete", "/api/v1/me", {"GET", "PATCH"}),
    ("put", "/api/v1/users", {"POST"}),
    ("post", "/healthz", {"GET"}),
])
def test_wrong_method_is_405_with_allow_header(client, method, path, allowed):
    r = getattr(client, method)(path)
    assert_error(r, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in r.headers["Allow"].split(",")}


def test_json_body_over_the_json_limit_is_413(client):
    limit = client.application.config["JSON_MAX_BYTES"]
    body = json.dumps({"username": "big", "password": PASSWORD, "nickname": "x" * limit})
    error = assert_error(client.post("/api/v1/users", data=body, content_type="application/json"),
                         413, "payload_too_large")
    assert error["details"]["limit"] == limit
    assert_error(client.post("/api/v1/users", data="x" * (limit + 1), content_type="text/plain"),
                 413, "payload_too_large")
    # Streamed without a Content-Length, it is cut off at the same limit while being read.
    r = client.post("/api/v1/users", input_stream=io.BytesIO(body.encode()), content_type="application/json",
                    environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": "",
                                       "HTTP_TRANSFER_ENCODING": "chunked"})
    assert r.request.content_length is None
    assert_error(r, 413, "payload_too_large")


def test_json_body_just_under_the_limit_is_read(client):
    limit = client.application.config["JSON_MAX_BYTES"]
    body = {"username": "big", "password": PASSWORD, "nickname": ""}
    body["nickname"] = "x" * (limit - len(json.dumps(body)))
    r = client.post("/api/v1/users", data=json.dumps(body), content_type="application/json")
    assert r.request.content_length == limit
    assert assert_error(r, 400, "validation_error")["details"]["fields"].keys() == {"nickname"}


@pytest.mark.parametrize("raw", [b"{bad", b'{"username": ', b"{'username': 'x'}", b"\xff\xfe{}",
                                 b'{"username": "\xe4\xb8"}'])
def test_malformed_json_is_400_invalid_json(client, raw):
    assert_error(client.post("/api/v1/users", data=raw, content_type="application/json"), 400, "invalid_json")


@pytest.mark.parametrize("raw", ["[]", '[{"username": "a"}]', '"text"', "42", "true", "null"])
def test_json_that_is_not_an_object_is_400_validation_error(client, raw):
    r = client.post("/api/v1/users", data=raw, content_type="application/json")
    assert "_schema" in assert_error(r, 400, "validation_error")["details"]["fields"]


@pytest.mark.parametrize("content_type, data", [
    ("application/x-www-form-urlencoded", "username=mallory&password=correct+horse+battery"),
    ("text/plain", '{"username": "mallory", "password": "correct horse battery"}'),
    ("application/xml", "<user><username>mallory</username></user>"),
    ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
                                        "mallory\r\n--b--\r\n"),
])
def test_body_in_another_format_is_415_and_not_acted_on(client, content_type, data):
    r = client.post("/api/v1/users", data=data, content_type=content_type)
    assert_error(r, 415, "unsupported_media_type")
    login = {"grant_type": "password", "username": "mallory", "password": "correct horse battery"}
    assert client.post("/api/v1/token", json=login).status_code == 401


@pytest.mark.parametrize("path", ["/boom", "/boom-sql"])
def test_unexpected_exception_is_500_without_internals(crashing_app, path):
    r = crashing_app.test_client().get(path)
    assert_error(r, 500, "internal_error")
    for leak in ("Traceback", "SELECT", "secret", "no_such_table", "RuntimeError", "password_hash", "File "):
        assert leak not in r.get_data(as_text=True)


def test_unreachable_database_is_503_without_internals(tmp_path):
    app = make_app(tmp_path, UNREACHABLE_DB)
    r = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer some-token"})
    assert_error(r, 503, "service_unavailable")
    assert r.headers["Retry-After"].isdigit()
    for leak in ("psycopg", "127.0.0.1", "SELECT", "tokens"):
        assert leak not in r.get_data(as_text=True)


def test_garbage_expired_and_revoked_tokens_are_401(client, factory):
    alice = factory.user()
    for token in ("nope", "' OR 1=1 --", "x" * 5000):
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert_error(r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200
    with client.application.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET expires_at = :past WHERE user_id = :uid"),
                     {"past": utcnow() - timedelta(seconds=1), "uid": alice.id})
    assert_error(client.get("/api/v1/me", headers=alice.headers), 401, "unauthorized")
    bob = factory.user()
    assert client.delete("/api/v1/token", headers=bob.headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bob.headers), 401, "unauthorized")
    assert_error(client.delete("/api/v1/token", headers=bob.headers), 401, "unauthorized")


@pytest.mark.parametrize("template, status", [
    ("Bearer {t}", 200), ("bearer {t}", 200), ("BEARER {t}", 200),
    ("{t}", 401), ("Bearer", 401), ("Bearer ", 401), ("Basic {t}", 401), ("Token {t}", 401),
    ("Bearer{t}", 401), ("", 401),
])
def test_authorization_header_variants(client, factory, template, status):
    alice = factory.user()
    r = client.get("/api/v1/me", headers={"Authorization": template.format(t=alice.token)})
    assert r.status_code == status
    if status == 401:
        assert_error(r, 401, "unauthorized")


def test_cjk_emoji_and_markup_stay_verbatim_utf8(client, factory):
    alice = factory.user()
    changes = {"nickname": "小明🐱", "bio": "<script>alert('拍拍')</script>'; DROP TABLE users; --"}
    r = client.patch("/api/v1/me", headers=alice.headers, json=changes)
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON_TYPE
    assert "小明🐱".encode() in r.data and b"\\u" not in r.data
    me = client.get("/api/v1/me", headers=alice.headers).get_json()
    assert (me["nickname"], me["bio"]) == (changes["nickname"], changes["bio"])
    r = client.patch("/api/v1/me", headers=alice.headers, json={"昵称": "小红"})
    assert "昵称" in assert_error(r, 400, "validation_error")["details"]["fields"]
    assert "昵称".encode() in r.data


def test_error_messages_in_chinese_stay_utf8(crashing_app):
    r = crashing_app.test_client().get("/cjk-conflict")
    error = assert_error(r, 409, "conflict")
    assert error == {"code": "conflict", "message": "这个商品已经卖出了 🎉",
                     "details": {"标题": "二手 iPhone 🍎", "request_id": r.headers["X-Request-ID"]}}
    assert "这个商品已经卖出了 🎉".encode() in r.data and b"\\u" not in r.data
