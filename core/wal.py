"""SQLite's WAL checkpoints on a native thread of their own, so a commit never waits for a checkpoint's fsync.

A connection checkpoints the write-ahead log itself in the commit that takes it past
`wal_autocheckpoint` pages (1,000 by default): it copies those pages into the database file and
fsyncs both, while the gevent worker that called it serves nothing else. A serving process on a
SQLite file (`make run`) hands that work to a thread here instead: the thread sleeps outside
gevent's loop, and sqlite3 releases the GIL while it copies and syncs. The serving connections keep
a far higher limit of their own, only for when the thread falls behind.
"""
from __future__ import annotations

import logging
import sqlite3

from gevent.monkey import get_original
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: how often the thread checkpoints (PASSIVE: it waits for no reader and no writer)
EVERY_S = 0.25
#: the WAL pages a serving connection lets pile up before it checkpoints itself, with the thread running
FALLBACK_PAGES = 20_000

# The thread and its waits are the interpreter's own, even in a worker gevent has patched: a checkpoint runs
# beside the loop, not in a greenlet of it.
_start_thread = get_original("_thread", "start_new_thread")
_new_lock = get_original("_thread", "allocate_lock")


class Checkpointer:
    """Checkpoints one SQLite database file's WAL every `every_s` seconds, on a native thread, until stopped."""

    def __init__(self, path: str, every_s: float = EVERY_S) -> None:
        self.path = path
        self.every_s = every_s
        #: the last checkpoint's (busy, frames in the WAL, frames checkpointed), and how many ran
        self.last: tuple[int, int, int] | None = None
        self.runs = 0
        self._stopping = _new_lock()
        self._stopped = _new_lock()

    def start(self) -> Checkpointer:
        """Start the thread (once)."""
        self._stopping.acquire()
        self._stopped.acquire()
        _start_thread(self._run, ())
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread; whether it ended within `timeout` seconds."""
        self._stopping.release()
        ended = self._stopped.acquire(timeout=timeout)
        if ended:
            self._stopped.release()
        return ended

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                # the stop lock, held until stop(), doubles as the wait between checkpoints
                while not self._stopping.acquire(timeout=self.every_s):
                    self._checkpoint(conn)
            finally:
                conn.close()
        except Exception:  # the serving connections checkpoint by themselves past FALLBACK_PAGES
            log.exception("the WAL checkpoint thread stopped (%s)", self.path)
        finally:
            self._stopped.release()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            self.last = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.runs += 1
        except sqlite3.OperationalError as exc:  # locked for a moment (a schema change): the next tick tries again
            log.warning("WAL checkpoint skipped: %s", exc)


def _fallback_pages(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
    cur.close()


def checkpoint_in_background(engine: Engine, every_s: float = EVERY_S) -> Checkpointer | None:
    """For a serving process on a SQLite file: start its checkpoint thread and reconnect the pool with
    the fallback limit. None (nothing changes) for another backend or an in-memory database."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    event.listen(engine, "connect", _fallback_pages)
    engine.dispose()  # pooled connections were made with SQLite's own limit
    return Checkpointer(path, every_s).start()
