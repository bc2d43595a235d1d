"""SQLite's WAL checkpoints on a native thread (core/wal.py), as gunicorn's workers start it (gunicorn.conf.py)."""
from __future__ import annotations

import gc
import os
import runpy
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import text

from core import wal
from core.db import db, make_engine
from tests.support.apps import close_app, make_app

ROOT = Path(__file__).resolve().parents[2]


def _wal_with_frames(path: Path) -> sqlite3.Connection:
    """A WAL database whose log holds pages no checkpoint copied yet."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the thread checkpoints
    conn.execute("CREATE TABLE t (v TEXT)")
    for _ in range(20):
        conn.execute("INSERT INTO t VALUES (hex(randomblob(2000)))")
    return conn


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_the_thread_checkpoints_once_enough_pages_wait_and_stops_when_told(tmp_path):
    conn = _wal_with_frames(tmp_path / "db.sqlite3")  # some 40 pages
    checkpointer = wal.Checkpointer(str(tmp_path / "db.sqlite3"), every_s=0.01, pages=10).start()
    try:
        assert _wait_for(lambda: checkpointer.runs == 1)
        busy, frames, copied = checkpointer.last
        assert busy == 0 and copied == frames >= 10
        conn.execute("INSERT INTO t VALUES ('a page or two')")  # fewer than 10 pages: no checkpoint for them
        time.sleep(0.2)
        assert checkpointer.runs == 1
        for _ in range(10):
            conn.execute("INSERT INTO t VALUES (hex(randomblob(2000)))")
        assert _wait_for(lambda: checkpointer.runs == 2)
        assert checkpointer.last[2] == checkpointer.last[1] >= 10
    finally:
        assert checkpointer.stop(timeout=2.0)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (31,)
    conn.close()


def test_the_thread_runs_while_a_patched_worker_blocks_its_loop(tmp_path):
    """In a gevent-patched process (a gunicorn worker) the thread is the interpreter's own: it checkpoints
    while the loop's thread is stuck in a blocking call, which no greenlet could."""
    writer = _wal_with_frames(tmp_path / "db.sqlite3")  # open: the last connection to close would checkpoint
    script = f"""
from gevent import monkey
monkey.patch_all()
from gevent.monkey import get_original
from core import wal
checkpointer = wal.Checkpointer({str(tmp_path / "db.sqlite3")!r}, every_s=0.01, pages=1).start()
get_original("time", "sleep")(1.0)  # the loop's thread blocked: no greenlet runs meanwhile
print(checkpointer.runs, checkpointer.stop(timeout=2.0))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    writer.close()
    runs, stopped = out.stdout.split()
    assert int(runs) == 1, out.stderr  # the log's pages, copied while the loop could not have run a greenlet
    assert stopped == "True"


def test_serving_connections_checkpoint_by_themselves_only_past_the_fallback(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000  # SQLite's own
        checkpointer = wal.checkpoint_in_background(engine, every_s=0.01, pages=1)
        assert checkpointer is not None
        try:
            with engine.connect() as conn:  # the pool reconnected: every connection has the fallback
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == wal.FALLBACK_PAGES
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (v TEXT)"))
                conn.execute(text("INSERT INTO t VALUES ('x')"))
            assert _wait_for(lambda: checkpointer.last is not None and checkpointer.last[1] > 0)
            assert checkpointer.last[2] == checkpointer.last[1]
        finally:
            assert checkpointer.stop()
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Selection of the SingletonThreadPool")
@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///file:mem1?mode=memory&uri=true",
                                 "postgresql+psycopg://nobody@127.0.0.1:1/none"])
def test_no_thread_where_there_is_no_file_to_checkpoint(url):
    engine = make_engine(url)
    try:
        assert wal.checkpoint_in_background(engine) is None
    finally:
        engine.dispose()


def _gunicorn_hooks() -> dict:
    saved = dict(os.environ)
    try:
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gunicorns_worker_hook_starts_the_thread_for_a_sqlite_file(tmp_path):
    hooks = _gunicorn_hooks()
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    worker = SimpleNamespace(wsgi=app, alive=False)  # told to stop at once: the shutdown watcher ends
    try:
        hooks["post_worker_init"](worker)
        checkpointer = app.extensions["db"].checkpointer
        assert isinstance(checkpointer, wal.Checkpointer)
        assert db.checkpoint_in_background(app) is checkpointer  # once per app
        with app.app_context(), db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == wal.FALLBACK_PAGES
        assert checkpointer.stop()
    finally:
        gc.unfreeze()
        close_app(app)


def test_gunicorns_worker_hook_leaves_another_flask_app_alone():
    """bench/reference (Flask-SocketIO) is served from this folder, with this file's hooks."""
    worker = SimpleNamespace(wsgi=Flask("another"), alive=False)
    try:
        _gunicorn_hooks()["post_worker_init"](worker)  # no KeyError: the worker boots
    finally:
        gc.unfreeze()
