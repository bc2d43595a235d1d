"""SQLite's WAL checkpoints on a native thread of their own, so a commit never waits for a checkpoint's fsync.

A connection checkpoints the write-ahead log itself in the commit that takes it past
`wal_autocheckpoint` pages (1,000 by default): it copies those pages into the database file and
fsyncs both, while the gevent worker that called it serves nothing else. A serving process on a
SQLite file (`make run`) hands that work to a thread here instead, at the same mark: the thread
watches how many pages the log holds past the last checkpoint and checkpoints once they reach
1,000. It sleeps outside gevent's loop, and sqlite3 releases the GIL while it copies and syncs. The
serving connections keep a far higher limit of their own, only for when the thread falls behind.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import struct

from gevent.monkey import get_original
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: how often the thread looks at the log's length (a 100-byte read of the `-shm` file)
EVERY_S = 0.05
#: pages in the log past the last checkpoint that start one: SQLite's own default mark
PAGES = 1000
#: the log pages a serving connection lets pile up before it checkpoints itself, with the thread running
FALLBACK_PAGES = 20_000

# The wal-index header at the start of the `-shm` file, in the machine's byte order (sqlite.org/walformat.html):
# mxFrame, the last valid frame of the log, at byte 16; nBackfill, the frames already checkpointed, at byte 96.
_U32, _MX_FRAME, _BACKFILLED = struct.Struct("=I"), 16, 96

# The thread and its waits are the interpreter's own, even in a worker gevent has patched: a checkpoint runs
# beside the loop, not in a greenlet of it.
_start_thread = get_original("_thread", "start_new_thread")
_new_lock = get_original("_thread", "allocate_lock")


class Checkpointer:
    """Checkpoints one SQLite database file's WAL once `pages` wait in it, on a native thread, until stopped."""

    def __init__(self, path: str, every_s: float = EVERY_S, pages: int = PAGES) -> None:
        self.path = path
        self.every_s = every_s
        self.pages = pages
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
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # opens (or makes) the -shm file
            shm = os.open(f"{self.path}-shm", os.O_RDONLY)
            try:
                # the stop lock, held until stop(), doubles as the wait between looks
                while not self._stopping.acquire(timeout=self.every_s):
                    if _waiting_pages(shm) >= self.pages:
                        self._checkpoint(conn)
            finally:
                os.close(shm)
                conn.close()
        except Exception:  # the serving connections checkpoint by themselves past FALLBACK_PAGES
            log.exception("the WAL checkpoint thread stopped (%s)", self.path)
        finally:
            self._stopped.release()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            self.last = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.runs += 1
        except sqlite3.OperationalError as exc:  # locked for a moment (a schema change): the next look tries again
            log.warning("WAL checkpoint skipped: %s", exc)


def _waiting_pages(shm: int) -> int:
    """Pages in the log that no checkpoint copied yet, as the wal-index header says."""
    header = os.pread(shm, _BACKFILLED + 4, 0)
    if len(header) < _BACKFILLED + 4:
        return 0  # no log yet
    return _U32.unpack_from(header, _MX_FRAME)[0] - _U32.unpack_from(header, _BACKFILLED)[0]


def _fallback_pages(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
    cur.close()


def checkpoint_in_background(engine: Engine, every_s: float = EVERY_S, pages: int = PAGES) -> Checkpointer | None:
    """For a serving process on a SQLite file: start its checkpoint thread and reconnect the pool with
    the fallback limit. None (nothing changes) for another backend or an in-memory database."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    event.listen(engine, "connect", _fallback_pages)
    engine.dispose()  # pooled connections were made with SQLite's own limit
    return Checkpointer(path, every_s, pages).start()
