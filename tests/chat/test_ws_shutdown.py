"""/ws graceful shutdown over real sockets: `close_all` / `close_sockets` close every socket with 1001,
and so do SIGTERM to `python app.py`-style servers and SIGTERM / SIGINT to gunicorn (gunicorn.conf.py)."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chat.ws.shutdown import close_sockets
from tests.support.databases import free_port
from tests.support.servers import GunicornServer, HttpApi
from tests.support.wsclient import WsClient, wait_until

ROOT = Path(__file__).resolve().parents[2]




def test_close_all_closes_every_socket_with_1001(live_server, factory):
    users = [factory.user() for _ in range(3)]
    phone = factory.login(users[0].username)
    sockets = [WsClient(live_server.ws_url, u.token) for u in users] + [WsClient(live_server.ws_url, phone.token)]
    try:
        for ws in sockets:
            ws.ready()
        live_server.app.extensions["chat_hub"].close_all(1001, "server restarting")
        assert [ws.close_status(timeout=3) for ws in sockets] == [1001] * 4
        assert wait_until(lambda: not live_server.app.extensions["chat_hub"].all_connections(), timeout=3)
    finally:
        for ws in sockets:
            ws.close()


def test_close_sockets_waits_until_every_socket_is_gone(live_server, factory):
    sockets = [WsClient(live_server.ws_url, factory.user().token) for _ in range(2)]
    try:
        for ws in sockets:
            ws.ready()
        assert close_sockets(live_server.app) == 2
        assert live_server.app.extensions["chat_hub"].all_connections() == []
        assert [ws.close_status(timeout=3) for ws in sockets] == [1001, 1001]
        assert close_sockets(live_server.app) == 0
    finally:
        for ws in sockets:
            ws.close()


def _closed_by_signal(process_pid: int, sig: int, ws: WsClient) -> tuple[int | None, float]:
    started = time.monotonic()
    os.kill(process_pid, sig)
    return ws.close_status(timeout=10), time.monotonic() - started


def test_sigterm_to_a_python_app_server_closes_sockets_with_1001(clean_app, database_url, tmp_path):
    port = free_port()
    script = textwrap.dedent(f"""
        from app import create_app
        from chat.ws.shutdown import close_sockets_on_sigterm
        app = create_app()
        close_sockets_on_sigterm(app)  # what app.py's __main__ does
        app.run(host="127.0.0.1", port={port}, threaded=True)
    """)
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_DIR": str(tmp_path),
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: _answers(port), timeout=20, interval=0.1), "the server did not start"
        api = HttpApi(f"http://127.0.0.1:{port}")
        ws = WsClient(f"ws://127.0.0.1:{port}/ws", api.user("term").token)
        try:
            ws.ready()
            code, took = _closed_by_signal(process.pid, signal.SIGTERM, ws)
        finally:
            ws.close()
        assert code == 1001 and took < 3
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/v1/listings")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_gunicorn_closes_sockets_with_1001(clean_app, database_url, tmp_path, sig):
    server = GunicornServer(tmp_path, database_url=database_url).start()
    try:
        api = HttpApi(server.url)
        ws = WsClient(server.ws_url, api.user("guni").token)
        try:
            ws.ready()
            code, took = _closed_by_signal(server._process.pid, sig, ws)
        finally:
            ws.close()
        assert code == 1001, server.log_tail()
        assert took < 2.5  # before the 3 s graceful timeout would have killed the handler
    finally:
        server.stop()
    assert "graceful timeout" not in server.log_tail()
