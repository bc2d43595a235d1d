"""Guarantee: nothing is acknowledged that is not committed, and the app recovers with the database.

A buyer sends over `/ws`, one frame at a time, while the database fails under it:
on PostgreSQL every session of the app (named by `application_name`) is terminated
again and again; on SQLite the app's connections turn read-only (`PRAGMA query_only`,
as a chmod'ed file stays writable for root, whom tests may run as). Sends meanwhile get an
`error` frame, never an `ack`; once the database is back sends are acked again; failed
sends retried with their client_id are acked once; and every `ack` ever received names
a message that is in the database, by id and client_id.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

from chat.models import ChatMessage
from tests.support.servers import GunicornServer, HttpApi, own_app, pg_database, with_query
from tests.chat.broker_support import wait_until
from tests.support.wsclient import Closed, WsClient, serve

pytestmark = pytest.mark.slow

HEALTHY, MIN_ERRORS, MAX_FAILING_SENDS, RECOVERED = 10, 5, 150, 10
MIN_WINDOW_S = 1.0  # the database stays broken at least this long
CONNECTS = 10  # new sockets opened while it is broken
UNAVAILABLE_CODES = ("service_unavailable",)


@contextmanager
def terminating(database_url: str, application_name: str) -> Iterator[list[int]]:
    """Terminate the app's PostgreSQL sessions every few ms until the block ends; yields [killed]."""
    killed, stop = [0], threading.Event()
    engine = create_engine(database_url, poolclass=NullPool)
    query = text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid() AND application_name = :name")

    def loop() -> None:
        with engine.connect() as conn:
            while not stop.is_set():
                killed[0] += len(conn.execute(query, {"name": application_name}).all())
                conn.commit()
                stop.wait(0.003)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join(timeout=10)
        engine.dispose()


@contextmanager
def read_only(app) -> Iterator[list[int]]:
    """Make every connection the app checks out of its SQLite pool read-only until the block ends."""
    state = {"on": True}

    def on_checkout(dbapi_conn, _record, _proxy) -> None:
        dbapi_conn.execute(f"PRAGMA query_only={'ON' if state['on'] else 'OFF'}")

    engine = app.extensions["db"].engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield [0]
    finally:
        state["on"] = False  # listener stays until the app is gone: connections checked out later are writable


class Sender:
    """One WebSocket device sending in lockstep: every frame gets its ack or error before the next."""

    def __init__(self, client: WsClient, group_id: int) -> None:
        self.client, self.group_id = client, group_id
        self.acks: dict[str, dict] = {}  # client_id → ack frame (the last one)
        self.ack_count = 0
        self.errors: list[dict] = []
        self.n = 0

    def send(self, client_id: str | None = None) -> dict:
        if client_id is None:
            client_id, self.n = f"db-{self.n}", self.n + 1
        self.client.send({"op": "send", "client_id": client_id, "group_id": self.group_id, "type": "txt",
                          "body": {"text": f"断线也不丢 {client_id}"}})
        reply = self.client.recv_until(lambda f: f["op"] in ("ack", "error") and f.get("client_id") == client_id,
                                       timeout=20)
        if reply["op"] == "ack":
            self.acks[client_id] = reply
            self.ack_count += 1
        else:
            self.errors.append(reply)
        return reply


def stored_messages(database_url: str, group_id: int) -> list:
    """The group's messages as the database has them (read on a connection of our own)."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(select(ChatMessage.id, ChatMessage.client_id, ChatMessage.seq, ChatMessage.sender_id)
                                .where(ChatMessage.group_id == group_id)).all()
    finally:
        engine.dispose()


def connect_outcome(ws_url: str, token: str) -> str:
    """How a new socket starts: `hello`, or an error frame then a close (anything else fails)."""
    client = WsClient(ws_url, token, timeout=10)
    try:
        first = client.recv()
        if first["op"] == "hello":
            return "hello"
        assert first["op"] == "error", first
        with pytest.raises(Closed) as closed:
            client.recv()
        return f"{first['error']['code']}/{closed.value.code}"
    finally:
        client.close()


def run_failure(url: str, ws_url: str, database_url: str, failure, *, every_send_fails: bool = False,
                hub=None) -> dict:
    """Sends before, during and after `failure()`; checks every ack against the database; the figures."""
    api = HttpApi(url)
    seller, buyer = api.user("seller"), api.user("buyer")
    group_id = api.inquiry(buyer, api.listing(seller, "全新未拆封 耳机"))
    client, watcher = WsClient(ws_url, buyer.token, timeout=20), WsClient(ws_url, seller.token, timeout=20)
    for device in (client, watcher):
        device.hello()
        device.sync(None)
    sender = Sender(client, group_id)
    try:
        assert all(sender.send()["op"] == "ack" for _ in range(HEALTHY))
        started = time.monotonic()
        with failure() as killed:
            failing = 0
            while (len(sender.errors) < MIN_ERRORS or time.monotonic() - started < MIN_WINDOW_S) \
                    and failing < MAX_FAILING_SENDS:
                failing += 1
                sender.send()
            connects = Counter(connect_outcome(ws_url, seller.token) for _ in range(CONNECTS))
        window_s = time.monotonic() - started
        assert set(connects) <= {"hello", "service_unavailable/1013"}, connects
        errors_in_window = list(sender.errors)
        assert len(errors_in_window) >= MIN_ERRORS, f"{failing} sends during the failure, all acked"
        if every_send_fails:
            assert len(errors_in_window) == failing, "a send was acked while the database refused writes"
        assert all(e["error"]["code"] in UNAVAILABLE_CODES for e in errors_in_window), errors_in_window[:3]
        recovered = [sender.send()["op"] for _ in range(RECOVERED)]  # db-{HEALTHY + failing} first
        assert recovered == ["ack"] * RECOVERED, "the app did not recover with the database"
        for error in errors_in_window:  # the client retries what failed, with the same client_id
            assert sender.send(error["client_id"])["op"] == "ack"
        live = [f["message"] for f in _messages(watcher, len(sender.acks))]
        if hub is not None:  # sockets refused during the failure left nothing behind in the hub
            assert wait_until(lambda: len(hub.all_connections()) == 2, timeout=10), hub.all_connections()
    finally:
        client.close()
        watcher.close()

    acked = {cid: frame["message"] for cid, frame in sender.acks.items()}
    rows = stored_messages(database_url, group_id)
    stored = {row.client_id: row for row in rows}
    for cid, message in acked.items():  # every ack names a committed message
        row = stored.get(cid)
        assert row is not None and (row.id, row.seq, row.sender_id) == (message["id"], message["seq"], buyer.id), cid
    assert set(stored) == set(acked), "a message is stored that no ack (after retries) names"
    assert sorted(row.seq for row in rows) == list(range(1, len(rows) + 1))

    history = WsClient(ws_url, seller.token, timeout=20)  # the other party replays it all, once, in order
    try:
        history.hello()
        replay = [f["message"] for f in history.sync(None)]
    finally:
        history.close()
    assert [(m["id"], m["seq"]) for m in replay] == sorted((row.id, row.seq) for row in rows)
    assert [(m["id"], m["seq"]) for m in live] == sorted((row.id, row.seq) for row in rows), \
        "the seller's socket, connected all along, did not get every message once in order"

    first_after = acked[f"db-{HEALTHY + failing}"]["seq"]  # the first send after the failure
    figures = {"sends": sender.n + len(errors_in_window), "acks": sender.ack_count,
               "errors": len(errors_in_window), "sends_in_failure": failing,
               # an error whose message had committed all the same (the commit reply was lost): allowed
               "committed_despite_error": sum(1 for e in errors_in_window if stored[e["client_id"]].seq < first_after),
               "sessions_killed": killed[0], "window_s": round(window_s, 2),
               "connects_in_failure": dict(connects)}
    return figures


def _messages(client: WsClient, count: int) -> list[dict]:
    """The first `count` message frames a connected device gets (bounded wait)."""
    got: list[dict] = []
    while len(got) < count:
        frame = client.recv_until(lambda f: f["op"] in ("message", "error"), timeout=15)
        assert frame["op"] == "message", frame
        got.append(frame)
    return got


def report(label: str, figures: dict) -> None:
    print(f"\nguarantee db failure [{label}]: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def test_sends_during_a_database_failure_are_never_acked_unless_committed(clean_app, backend, database_url,
                                                                          tmp_path):
    name = f"paipai_guarantee_{uuid.uuid4().hex[:8]}"
    url = with_query(database_url, application_name=name) if backend == "postgresql" else database_url
    with own_app(tmp_path, url) as app, serve(app) as server:
        if backend == "postgresql":
            figures = run_failure(server.url, server.ws_url, database_url, lambda: terminating(database_url, name),
                                  hub=app.extensions["chat_hub"])
        else:
            figures = run_failure(server.url, server.ws_url, database_url, lambda: read_only(app),
                                  every_send_fails=True, hub=app.extensions["chat_hub"])
    report(f"in-process {backend}", figures)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="gunicorn serves a PostgreSQL schema here: set TEST_DATABASE_URL")
def test_sends_during_a_database_failure_under_gunicorn_are_never_acked_unless_committed(tmp_path):
    name = f"paipai_guarantee_{uuid.uuid4().hex[:8]}"
    with pg_database() as database_url, \
            GunicornServer(tmp_path, database_url=with_query(database_url, application_name=name)) as server:
        figures = run_failure(server.url, server.ws_url, database_url, lambda: terminating(database_url, name))
    report("gunicorn postgresql", figures)
