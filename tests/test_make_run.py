"""`make run` serves as production does: gunicorn's gevent worker, migrations applied first, SQLite and the
in-process broker, and no development-server warning. Run as a user runs it: the Makefile, a fresh instance dir."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.databases import free_port
from tests.support.servers import ROOT, HttpApi, healthy
from tests.support.wsclient import WsClient

START_TIMEOUT_S = 180.0  # `make run` may first reinstall the pinned requirements (all present: quick)


@pytest.fixture
def make_run(tmp_path: Path):
    """`make run` on a free port with a fresh instance directory; stopped (SIGTERM to its group) after the test."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "FLASK_DEBUG")}
    env.update(HOST="127.0.0.1", PORT=str(port), INSTANCE_DIR=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    log = tmp_path / "make-run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    api = HttpApi(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            if healthy(port):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"make run did not serve /healthz:\n{log.read_text(errors='replace')[-4000:]}")
        yield api, port, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def test_make_run_serves_the_api_and_sockets_with_the_gevent_worker(make_run, tmp_path):
    api, port, log = make_run
    seller, buyer = api.user("seller"), api.user("buyer")  # the schema is there: migrations ran first
    group_id = api.inquiry(buyer, api.listing(seller))
    ws = WsClient(f"ws://127.0.0.1:{port}/ws", seller.token)
    try:
        ws.ready()
        api.send(buyer, group_id, "m1", "还在吗?")
        assert ws.op("message")["message"]["body"] == {"text": "还在吗?"}
    finally:
        ws.close()
    output = log.read_text(errors="replace")
    assert "Using worker: gevent" in output
    assert "development server" not in output.lower()
    assert (tmp_path / "instance" / "paipai.sqlite3").exists()


def test_plain_clients_of_make_run_send_and_hear_without_a_sync(make_run):
    """A new user's path with every default as it ships: hello, then a `send` at once (no sync, no cursor), and a
    peer that only listens. The ack answers the send, before anything else positioned, and the peer hears it."""
    api, port, _ = make_run
    seller, buyer = api.user("seller"), api.user("buyer")
    group_id = api.inquiry(buyer, api.listing(seller))
    listener, sender = (WsClient(f"ws://127.0.0.1:{port}/ws", user.token) for user in (seller, buyer))
    try:
        listener.hello()
        hello = sender.hello()
        sender.send_text(group_id, "你好,在吗?", "plain-1")
        ack = sender.recv_until(lambda f: f.get("op") in ("ack", "message", "error"))
        assert ack["op"] == "ack" and ack["client_id"] == "plain-1", ack
        assert ack["message"]["seq"] == 1 and ack["cursor"] != hello["cursor"]
        heard = listener.op("message")["message"]
        assert (heard["id"], heard["body"]) == (ack["message"]["id"], {"text": "你好,在吗?"})
    finally:
        listener.close()
        sender.close()
