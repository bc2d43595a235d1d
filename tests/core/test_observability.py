"""Logs, request ids, metrics and health: JSON lines with request and user ids, an access line per request and
per socket without credentials, /metrics behind its token or addresses, /livez apart from /readyz."""
from __future__ import annotations

import http.client
import io
import json
import logging
import time

import pytest

from core.logging import TEXT_FORMAT, configure_logging, make_formatter
from tests.support.apps import make_app
from tests.support.wsclient import WsClient

UNREACHABLE_DB = "postgresql+psycopg://127.0.0.1:1/none"


@pytest.fixture
def log_lines():
    """Every log line as JSON, written to a buffer for the test, stderr again afterwards."""
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    lines.buffer = buffer  # type: ignore[attr-defined]
    yield lines
    configure_logging("INFO", "auto")


def access_lines(lines: list[dict], event: str = "request") -> list[dict]:
    return [line for line in lines if line["logger"] == "paipai.access" and line["event"] == event]


def test_a_request_id_is_made_echoed_and_put_in_error_details(client):
    ok = client.get("/healthz")
    made = ok.headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != made
    supplied = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert supplied.headers["X-Request-ID"] == "lb-7f3a.42"
    missing = client.get("/api/v1/listings/999999", headers={"X-Request-ID": "trace-1"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["details"] == {"request_id": "trace-1"}


@pytest.mark.parametrize("bad", ["a b", "x" * 129, "line\\nbreak", "é"])
def test_an_unsafe_request_id_is_replaced(client, bad):
    r = client.get("/healthz", headers={"X-Request-ID": bad})
    assert r.headers["X-Request-ID"] != bad and len(r.headers["X-Request-ID"]) == 32


def test_log_lines_are_json_with_request_and_user_ids(client, factory, log_lines):
    user = factory.user()
    r = client.get("/api/v1/me", headers={**user.headers, "X-Request-ID": "req-me-1"})
    assert r.status_code == 200
    line = next(line for line in access_lines(log_lines()) if line["request_id"] == "req-me-1")
    assert {"timestamp", "level", "logger", "message", "request_id", "user_id"} <= set(line)
    assert line["level"] == "INFO" and line["user_id"] == user.id
    assert line["method"] == "GET" and line["path"] == "/api/v1/me" and line["status"] == 200
    assert line["route"] == "/api/v1/me" and line["duration_ms"] >= 0
    assert line["message"].startswith("GET /api/v1/me 200")


def test_application_log_lines_carry_the_request_id(clean_app, database_url, tmp_path, log_lines):
    app = make_app(tmp_path, database_url)
    configure_logging("INFO", "json", stream=log_lines.buffer)  # make_app set stderr again

    @app.get("/__log_something")
    def _log_something():
        logging.getLogger("paipai.test").warning("something odd")
        return "", 204
    app.test_client().get("/__log_something", headers={"X-Request-ID": "req-odd"})
    line = next(line for line in log_lines() if line["logger"] == "paipai.test")
    assert line["message"] == "something odd" and line["request_id"] == "req-odd" and line["level"] == "WARNING"


def test_credentials_in_the_query_are_never_logged(client, log_lines):
    client.get("/healthz?access_token=SECRET-A&ticket=SECRET-B&token=SECRET-C&page=2")
    text = json.dumps(log_lines())
    assert "SECRET" not in text
    line = access_lines(log_lines())[-1]
    assert line["path"] == ("/healthz?access_token=[redacted]&ticket=[redacted]&token=[redacted]&page=2")


def test_a_socket_session_gets_one_access_line_without_its_token(live_server, factory, log_lines):
    user = factory.user()
    ws = WsClient(live_server.ws_url, user.token, header=False, headers=("X-Request-ID: ws-session-1",))
    ws.hello()
    ws.send({"op": "ping"})
    ws.op("pong")
    ws.ws.close(status=1000)
    deadline = time.monotonic() + 10
    while not access_lines(log_lines(), "ws_session"):
        assert time.monotonic() < deadline, log_lines()
        time.sleep(0.05)
    [line] = access_lines(log_lines(), "ws_session")
    [opened] = access_lines(log_lines(), "ws_open")
    assert opened["request_id"] == "ws-session-1" and opened["user_id"] == user.id
    assert opened["path"] == "/ws?access_token=[redacted]"
    assert line["request_id"] == "ws-session-1" and line["user_id"] == user.id
    assert line["close_code"] == 1000 and line["frames_in"] == 1 and line["frames_out"] == 2
    assert line["path"] == "/ws?access_token=[redacted]" and line["duration_ms"] >= 0
    assert user.token not in json.dumps(log_lines())


def test_a_refused_socket_logs_its_close_code(live_server, log_lines):
    ws = WsClient(live_server.ws_url, "not-a-token")
    assert ws.close_status() == 4401
    deadline = time.monotonic() + 10
    while not access_lines(log_lines(), "ws_session"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    line = access_lines(log_lines(), "ws_session")[0]
    assert line["close_code"] == 4401 and line["frames_out"] == 0 and line["user_id"] is None


def test_text_logs_on_a_terminal_json_otherwise():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    assert make_formatter("auto", Tty())._fmt == TEXT_FORMAT
    assert make_formatter("auto", io.StringIO())._fmt != TEXT_FORMAT
    buffer = io.StringIO()
    configure_logging("INFO", "text", stream=buffer)
    try:
        logging.getLogger("paipai.test").info("plain")
    finally:
        configure_logging("INFO", "auto")
    assert buffer.getvalue().rstrip().endswith("INFO paipai.test [None user=None] plain")


def test_metrics_are_off_unless_configured(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(client, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "METRICS_TOKEN", "scrape-me")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    client.get("/healthz")
    r = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    text = r.get_data(as_text=True)
    assert 'paipai_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'paipai_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    for series in ("paipai_ws_sockets_open", "paipai_ws_frames_total", "paipai_send_queue_depth",
                   "paipai_send_batch_size", "paipai_db_commit_seconds", "paipai_broker_reconnects_total",
                   "paipai_rate_limited_total", "paipai_ws_sockets_refused_total"):
        assert f"# TYPE {series}" in text


def test_metrics_for_allowed_addresses(client, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "METRICS_ALLOW", ["10.0.0.0/8"])
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    monkeypatch.setitem(clean_app.config, "METRICS_ALLOW", ["10.0.0.0/8", "127.0.0.1"])
    assert client.get("/metrics").status_code == 200


def test_commits_and_sockets_are_counted(live_server, factory, clean_app, monkeypatch):
    from prometheus_client import REGISTRY
    monkeypatch.setitem(clean_app.config, "METRICS_TOKEN", "t")
    commits = REGISTRY.get_sample_value("paipai_db_commit_seconds_count") or 0
    factory.user()
    assert REGISTRY.get_sample_value("paipai_db_commit_seconds_count") > commits
    before = REGISTRY.get_sample_value("paipai_ws_sockets_open")
    frames_in = REGISTRY.get_sample_value("paipai_ws_frames_total", {"direction": "in"}) or 0
    ws = WsClient(live_server.ws_url, factory.user().token)
    ws.hello()
    assert REGISTRY.get_sample_value("paipai_ws_sockets_open") == before + 1
    for _ in range(3):
        ws.send({"op": "ping"})
        ws.op("pong")
    ws.close()
    deadline = time.monotonic() + 10
    while REGISTRY.get_sample_value("paipai_ws_sockets_open") != before:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # counted a few at a time (core.access.COUNT_IN_EVERY), all of them by the session's end
    assert REGISTRY.get_sample_value("paipai_ws_frames_total", {"direction": "in"}) >= frames_in + 3


def test_a_bad_metrics_allow_entry_names_the_setting(tmp_path, database_url):
    from config.env import ConfigError
    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        make_app(tmp_path, database_url, METRICS_ALLOW=["10.0.0.300"])


def test_livez_answers_without_the_database_readyz_reports_it(tmp_path):
    app = make_app(tmp_path, UNREACHABLE_DB)
    client = app.test_client()
    live = client.get("/livez")
    assert live.status_code == 200 and live.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json() == {"status": "degraded", "db": "down", "broker": "ok"}
    assert client.get("/healthz").get_json() == ready.get_json()


def test_readyz_is_ok_when_everything_answers(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "db": "ok", "broker": "ok"}


def test_metrics_add_up_every_gunicorn_worker(clean_app, database_url, tmp_path):
    from tests.support.production import readme_server
    with readme_server(tmp_path, workers=2, DATABASE_URL=database_url, METRICS_TOKEN="scrape") as (host, _log):
        port = int(host.split(":")[1])
        for _ in range(20):  # a new connection each: gunicorn hands them to either worker
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/livez")
            assert conn.getresponse().status == 200
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer scrape"})
        text = conn.getresponse().read().decode()
        conn.close()
    assert 'paipai_http_requests_total{method="GET",route="/livez",status="200"} 20.0' in text
