"""Security headers on every response, no-store on the API, HSTS on HTTPS only, CORS for configured origins."""
from __future__ import annotations

from urllib.parse import urlsplit

import flask
import pytest

from core.headers import PAGE_CSP
from tests.factories import PASSWORD
from tests.support.wsclient import tuned_app

API = "/api/v1"
ALLOWED = "https://admin.paipai.example"


def _assert_hardened(r) -> None:
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [f"{API}/listings", f"{API}/me", f"{API}/nope", "/healthz", "/nope",
                                  f"{API}/openapi.json", "/docs/static/docs-init.js"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(path)
    _assert_hardened(r)
    assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_html_pages_get_a_strict_same_origin_policy(client):
    r = client.get("/docs")
    _assert_hardened(r)
    csp = r.headers["Content-Security-Policy"]
    assert csp == PAGE_CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe" not in csp  # no inline script, no eval
    assert directives["connect-src"] == "'self'"  # the same host's ws:// and wss:// included
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"


def test_api_responses_are_not_stored_uploads_stay_cacheable(client, factory):
    r = client.post(f"{API}/token", json={"grant_type": "password", "username": "nobody", "password": "x" * 8})
    assert r.headers["Cache-Control"] == "no-store"
    alice = factory.user()
    r = client.post(f"{API}/token", json={"grant_type": "password", "username": alice.username,
                                          "password": "correct horse battery"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert client.get(f"{API}/me", headers=alice.headers).headers["Cache-Control"] == "no-store"
    path = urlsplit(factory.upload(alice.id)).path
    with open(f"{client.application.config['UPLOAD_DIR']}/{path.rsplit('/', 1)[1]}", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
    served = client.get(path)
    assert served.status_code == 200 and "public" in served.headers["Cache-Control"]
    assert served.headers["Content-Security-Policy"] == "sandbox"  # the view's own policy is kept


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    r = client.get("/healthz", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"] == "max-age=15552000; includeSubDomains"


def test_hsts_can_be_turned_off_and_trusts_forwarded_proto_only_behind_a_declared_proxy(clean_app):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in clean_app.test_client().get("/healthz", headers=forwarded).headers
    with tuned_app(clean_app, TRUSTED_PROXY_COUNT=1) as app:
        assert "Strict-Transport-Security" in app.test_client().get("/healthz", headers=forwarded).headers
    with tuned_app(clean_app, HSTS_MAX_AGE=0) as app:
        r = app.test_client().get("/healthz", base_url="https://localhost")
        assert "Strict-Transport-Security" not in r.headers


def _preflight(client, origin: str, path: str = f"{API}/me", method: str = "PATCH"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "authorization, content-type"})


def test_without_configured_origins_no_origin_may_read_the_api(client):
    r = _preflight(client, ALLOWED)
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers
    r = client.get(f"{API}/listings", headers={"Origin": ALLOWED})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert "Origin" in r.headers["Vary"]


@pytest.fixture
def cors_app(clean_app):
    with tuned_app(clean_app, CORS_ORIGINS=[ALLOWED]) as app:
        yield app


def test_a_configured_origin_gets_a_preflight_with_the_authorization_header(cors_app):
    client = cors_app.test_client()
    for path, method in [(f"{API}/me", "PATCH"), (f"{API}/groups/1/messages", "POST"), (f"{API}/nope", "GET")]:
        r = _preflight(client, ALLOWED, path, method)  # before auth, body checks or routing
        assert r.status_code == 204, (path, r.get_data(as_text=True))
        assert r.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]  # once: browsers refuse two
        assert method in r.headers["Access-Control-Allow-Methods"]
        assert r.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
        assert int(r.headers["Access-Control-Max-Age"]) > 0
        assert "Access-Control-Allow-Credentials" not in r.headers
        assert {"Origin", "Access-Control-Request-Method"} <= {v.strip() for v in r.headers["Vary"].split(",")}


def test_a_configured_origin_reads_responses_others_do_not(cors_app):
    client = cors_app.test_client()
    r = client.get(f"{API}/me", headers={"Origin": ALLOWED})
    assert r.status_code == 401 and r.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]
    assert [v.strip() for v in r.headers["Vary"].split(",")].count("Origin") == 1
    assert "Retry-After" in r.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in r.headers
    for origin in ("https://evil.example", "https://admin.paipai.example.evil.example", "null", ALLOWED + ":8443"):
        r = client.get(f"{API}/listings", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in r.headers, origin
        assert "Access-Control-Allow-Origin" not in _preflight(client, origin).headers, origin


def test_a_wildcard_origin_never_comes_with_credentials(clean_app):
    with tuned_app(clean_app, CORS_ORIGINS=["*"]) as app:
        client = app.test_client()
        r = client.get(f"{API}/listings", headers={"Origin": "https://anywhere.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in r.headers
        assert _preflight(client, "https://anywhere.example").headers["Access-Control-Allow-Origin"] == "*"


def test_a_plain_options_request_still_gets_allow(client):
    r = client.options(f"{API}/listings")
    assert r.status_code == 200 and "GET" in r.headers["Allow"]


def test_no_cookie_session_is_read_or_set(client, factory):
    """Tokens travel in a header: a login sets no cookie, a stray session cookie changes nothing, and
    nothing can write Flask's session."""
    user = factory.user()
    client.set_cookie("session", "forged.value.signature")
    r = client.post(f"{API}/token", json={"grant_type": "password", "username": user.username,
                                         "password": PASSWORD})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert client.get(f"{API}/me", headers=user.headers).status_code == 200
    with client.application.test_request_context("/"):
        with pytest.raises(RuntimeError):
            flask.session["user_id"] = user.id
