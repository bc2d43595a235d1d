"""psycopg's wait in a gevent worker (core/pg_wait.py): queries, pipelines and large sends complete, waits are
cooperative (greenlets wait on the server side by side, and one served by a socket that stays ready lets the
others run), and a connection the server kills mid-wait fails."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import gevent
import pytest
from psycopg.waiting import WAIT_R
from sqlalchemy.engine import make_url

from config.settings import normalize_database_url
from core import pg_wait

ROOT = Path(__file__).resolve().parents[2]

# Runs in a process gevent patched, as a gunicorn gevent worker is.
SCRIPT = """
from gevent import monkey
monkey.patch_all()
import sys, time
import gevent, psycopg
from psycopg import waiting
from core import pg_wait
from core.db import make_engine

engine_url, url = sys.argv[1], sys.argv[2]
engine = make_engine(engine_url)  # a PostgreSQL engine installs the wait
assert waiting.wait is pg_wait.wait
with engine.connect() as conn:
    assert conn.exec_driver_sql("SELECT 1").scalar() == 1

with psycopg.connect(url) as conn:
    assert conn.execute("SELECT 1").fetchone() == (1,)
    with conn.pipeline():
        first = conn.execute("SELECT 2")
        many = conn.execute("SELECT generate_series(1, 20000)")
    assert first.fetchone() == (2,) and len(many.fetchall()) == 20000
    big = "x" * 8_000_000  # more than a socket buffer: the send waits for the socket to drain
    assert conn.execute("SELECT length(%s)", [big]).fetchone() == (8_000_000,)
    print("slow", conn.execute("SELECT pg_sleep(0.35), 7").fetchone()[1])  # waits past psycopg's 0.1 s interval

def nap():
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_sleep(0.6)")

started = time.monotonic()
gevent.joinall([gevent.spawn(nap) for _ in range(3)], raise_error=True)
print("naps", time.monotonic() - started)

with psycopg.connect(url) as victim, psycopg.connect(url, autocommit=True) as killer:
    waiter = gevent.spawn(victim.execute, "SELECT pg_sleep(30)")
    gevent.sleep(0.3)
    killer.execute("SELECT pg_terminate_backend(%s)", [victim.info.backend_pid])
    waiter.join(10)
    print("killed", isinstance(waiter.exception, psycopg.OperationalError))
"""


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL")
def test_queries_complete_cooperatively_and_a_killed_connection_fails():
    engine_url = normalize_database_url(os.environ["TEST_DATABASE_URL"])
    libpq_url = make_url(engine_url).set(drivername="postgresql").render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-c", SCRIPT, engine_url, libpq_url], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.split("\n") if line)
    assert lines["slow"] == "7"
    assert float(lines["naps"]) < 1.5  # side by side; one after the other would take 1.8 s
    assert lines["killed"] == "True"



def test_not_installed_where_gevent_did_not_patch_select():
    from psycopg import waiting
    before = waiting.wait
    assert pg_wait.install() is False
    assert waiting.wait is before


def test_a_socket_that_stays_ready_does_not_keep_the_other_greenlets_waiting():
    """A long result arrives faster than it is read: every look finds the socket ready. The wait still lets
    the other greenlets run every MAX_BUSY_S, as a trip round gevent's loop per look used to."""
    ready, writer = socket.socketpair()
    writer.send(b"x")  # never read: `ready` stays readable

    def reading_for(seconds: float):
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            yield WAIT_R
        return "read"

    turns: list[float] = []
    ended: list[float] = []

    def read() -> str:
        result = pg_wait.wait(reading_for(0.1), ready.fileno(), 0.1)
        ended.append(time.monotonic())
        return result

    def other() -> None:
        while True:
            turns.append(time.monotonic())
            gevent.sleep(0)

    reader, others = gevent.spawn(read), gevent.spawn(other)
    try:
        assert reader.get(timeout=5) == "read"
        # the other greenlet had turns while the reader's socket was ready all along (10 or so: one per 5 ms)
        assert len([t for t in turns if t < ended[0]]) >= 5
    finally:
        others.kill()
        ready.close()
        writer.close()
