"""Who should checkpoint SQLite's write-ahead log: the committing connection (SQLite's default, what `make run`
does) or a thread beside it? One writer commits back to back, as the send queue's worker does under load.

    .venv/bin/python -m bench.wal_checkpoints --seconds 6

Modes: `inline` (the connection checkpoints at 1,000 log pages, fsyncs included), `thread` (a thread runs a
PASSIVE checkpoint once 1,000 pages wait, the connection only past 20,000) and `hybrid` (the thread at 300,
the connection at 1,000). Prints commits/s, the log's size at the end and commit latency percentiles.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import struct
import tempfile
import threading
import time

ROWS_PER_COMMIT, ROW_BYTES = 20, 300
MODES = {"inline": (1000, None), "thread": (20_000, 1000), "hybrid": (1000, 300)}


def _waiting_pages(shm: int) -> int:
    """Log pages no checkpoint copied yet: mxFrame (byte 16) - nBackfill (byte 96) of the wal-index header."""
    header = os.pread(shm, 100, 0)
    return struct.unpack_from("=I", header, 16)[0] - struct.unpack_from("=I", header, 96)[0]


def _checkpoints(path: str, pages: int, stop: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    shm = os.open(f"{path}-shm", os.O_RDONLY)
    while not stop.wait(0.05):
        if _waiting_pages(shm) >= pages:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    os.close(shm)
    conn.close()


def run(mode: str, seconds: float, folder: str) -> str:
    own_pages, thread_pages = MODES[mode]
    path = os.path.join(folder, f"{mode}.sqlite3")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"wal_autocheckpoint={own_pages}"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    conn.execute("CREATE INDEX ix_t_v ON t (v)")
    stop = threading.Event()
    thread = threading.Thread(target=_checkpoints, args=(path, thread_pages, stop)) if thread_pages else None
    if thread:
        thread.start()
    took = []
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(ROWS_PER_COMMIT):
            conn.execute("INSERT INTO t (v) VALUES (randomblob(?))", (ROW_BYTES,))
        conn.execute("COMMIT")
        took.append(time.perf_counter() - started)
    stop.set()
    if thread:
        thread.join()
    took.sort()

    def ms(q: float) -> float:
        return took[int(q * (len(took) - 1))] * 1000

    log_mb = os.path.getsize(f"{path}-wal") / 1e6
    conn.close()
    return (f"{mode:7} commits/s {len(took) / seconds:6.0f}  log {log_mb:6.1f} MB  p50 {ms(.5):5.2f} ms  "
            f"p99 {ms(.99):6.2f} ms  p99.9 {ms(.999):6.2f} ms  max {ms(1):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.repeat):
            round_folder = os.path.join(folder, str(i))
            os.makedirs(round_folder)
            for mode in MODES:
                print(run(mode, args.seconds, round_folder), flush=True)


if __name__ == "__main__":
    main()
