"""Capacity through the README's production command: sockets past WS_MAX_SOCKETS get a clear 503 at once,
/healthz answers while the worker is full of sockets, a low open-files limit is warned about at start,
and production refuses a setup that would split state between workers."""
from __future__ import annotations

import json
import resource
import subprocess
import time

import pytest
import websocket

from tests.support.databases import free_port
from tests.support.production import ROOT, server_env, readme_server, serve_command, status
from tests.support.servers import HttpApi
from tests.support.wsclient import WsClient

REAL_SECRET = "s3cr3t-" + "x" * 32


def test_the_socket_past_the_limit_gets_a_503_and_healthz_still_answers(clean_app, database_url, tmp_path):
    with readme_server(tmp_path, DATABASE_URL=database_url, WS_MAX_SOCKETS="3",
                       HTTP_MAX_CONNECTIONS="4") as (host, _log):
        api = HttpApi(f"http://{host}")
        users = [api.user("cap") for _ in range(5)]
        sockets = [WsClient(f"ws://{host}/ws", u.token) for u in users[:3]]
        try:
            for ws in sockets:
                ws.hello()
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                WsClient(f"ws://{host}/ws", users[3].token)
            assert refused.value.status_code == 503
            body = json.loads(refused.value.resp_body)
            assert body["error"]["code"] == "service_unavailable" and body["error"]["details"]["retry_after"] > 0
            assert refused.value.resp_headers["retry-after"]
            # the worker holds 3 sockets (its limit): plain requests still get a slot, at once
            assert [status(int(host.split(":")[1]), "/healthz") for _ in range(5)] == [200] * 5
            sockets.pop().close()
            deadline = time.monotonic() + 10
            while True:  # the slot comes back once the server has seen the close
                try:
                    sockets.append(WsClient(f"ws://{host}/ws", users[4].token))
                    break
                except websocket.WebSocketBadStatusException:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert sockets[-1].hello()["op"] == "hello"
        finally:
            for ws in sockets:
                ws.close()


def test_a_low_open_files_limit_is_warned_about_at_start(clean_app, database_url, tmp_path):
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    with readme_server(tmp_path, preexec=low_limit, DATABASE_URL=database_url) as (_host, log):
        text = log.read_text()
    assert "open files limit (ulimit -n) is 1024, below the 11256 each worker needs" in text


def test_the_limit_is_raised_to_the_hard_limit_without_a_warning(clean_app, database_url, tmp_path):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 11256 + 100:
        pytest.skip(f"the hard open-files limit here ({hard}) is below what the test needs")

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    with readme_server(tmp_path, preexec=low_soft_limit, DATABASE_URL=database_url) as (_host, log):
        text = log.read_text()
    assert "open files limit (ulimit -n)" not in text


@pytest.mark.parametrize("database, redis, named", [
    ("sqlite:///{tmp}/one.sqlite3", "redis://127.0.0.1:1/0", "DATABASE_URL"),
    ("postgresql://paipai@127.0.0.1:1/paipai", None, "REDIS_URL"),
])
def test_production_refuses_several_workers_without_a_shared_database_and_broker(tmp_path, database, redis,
                                                                                   named):
    settings = {"APP_ENV": "production", "SECRET_KEY": REAL_SECRET,
                "DATABASE_URL": database.format(tmp=tmp_path)}
    if redis:
        settings["REDIS_URL"] = redis
    env = server_env(tmp_path, **settings)
    done = subprocess.run(serve_command(workers=2, bind=f"127.0.0.1:{free_port()}"), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "production with 2 workers" in done.stderr and named in done.stderr
    assert "Booting worker" not in done.stderr
