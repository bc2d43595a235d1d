"""Benchmark of GET /listings?q=&category=: keyword search over 100,000 Chinese listings.

Seeds the listings (bench/search_data.py: titles and descriptions from word lists) on SQLite and on
PostgreSQL, then asks a fixed mix of queries — `q` of 2–4 characters plus a category filter, newest
first, a page of 20 — through the app (argument parsing, the count and page statements,
serialization) and prints p50/p99 overall and per length of `q`. `--baseline` also times the same
queries with the plain LIKE scan the index replaced. Goal: p50 <= 30 ms per page on both databases.
PostgreSQL comes from `--pg URL` or TEST_DATABASE_URL and runs in a private schema dropped at the end.

    .venv/bin/python bench/search.py --baseline --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

from bench.search_data import EPOCH, listing_row, queries
from core.db import Base, db
from marketplace.listings import search, search_index
from marketplace.models import Listing, User
from tests.support.apps import make_app
from tests.support.databases import pg_schema

SELLERS = 2000
CHUNK = 5000
WARMUP = 20


def seed(count: int, seed_: int) -> float:
    """Insert SELLERS users and `count` listings in chunks (the search index is kept up by the database)."""
    rng = random.Random(seed_)
    started = time.perf_counter()
    sellers = [{"id": n, "username": f"seller{n}", "password_hash": "-", "nickname": f"卖家{n}", "bio": "",
                "role": "user", "rating_count": 0, "rating_total": 0, "created_at": EPOCH}
               for n in range(1, SELLERS + 1)]
    seller_ids = [s["id"] for s in sellers]
    with db.transaction() as s:
        s.execute(insert(User.__table__), sellers)
    for start in range(1, count + 1, CHUNK):
        rows = [listing_row(rng, n, seller_ids) for n in range(start, min(start + CHUNK, count + 1))]
        with db.transaction() as s:
            s.execute(insert(Listing.__table__), rows)
    with db.engine.begin() as conn:
        for table in ("users", "listings"):  # these only: a whole-database ANALYZE locks other schemas
            conn.execute(text(f"ANALYZE {table}"))
    return time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(app, asked: list[dict], clock=time.perf_counter) -> tuple[list[tuple[int, float]], float]:
    """(len(q), ms) per query after WARMUP untimed ones, and the mean number of hits (total)."""
    client = app.test_client()
    timed, totals = [], []
    for n, query in enumerate(asked[:WARMUP] + asked):
        start = clock()
        r = client.get("/api/v1/listings", query_string={**query, "page_size": 20})
        elapsed = (clock() - start) * 1000
        assert r.status_code == 200, r.get_json()
        if n >= WARMUP:
            timed.append((len(query["q"]), elapsed))
            totals.append(r.get_json()["total"])
    return timed, statistics.mean(totals)


@contextmanager
def like_scan() -> Iterator[None]:
    """The search as it was before the index: the substring predicate alone."""
    keyword = search.keyword_filter
    search.keyword_filter = lambda _dialect, q: search_index.substring_match(q)
    try:
        yield
    finally:
        search.keyword_filter = keyword


def report(label: str, timed: list[tuple[int, float]], hits: float) -> None:
    samples = [ms for _n, ms in timed]
    line = f"  {label:<9} p50 {statistics.median(samples):7.2f} ms  p99 {percentile(samples, 0.99):7.2f} ms"
    for length in (2, 3, 4):
        these = [ms for n, ms in timed if n == length]
        if these:
            line += f"  | q={length}: p50 {statistics.median(these):6.2f} p99 {percentile(these, 0.99):6.2f}"
    print(f"{line}  (mean total {hits:.0f})")


def run_backend(label: str, database_url: str, args: argparse.Namespace) -> None:
    asked = queries(random.Random(args.seed + 1), args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), database_url)
        with app.app_context():
            Base.metadata.drop_all(db.engine)
            Base.metadata.create_all(db.engine)
            seeded = seed(args.listings, args.seed)
            total = db.session.scalar(select(func.count()).select_from(Listing))
            db.remove()
            print(f"\n{label}: {total} listings seeded in {seeded:.1f} s; {len(asked)} queries, page of 20")
            clock = time.thread_time if args.cpu else time.perf_counter
            report("index", *measure(app, asked, clock))
            if args.baseline:
                with like_scan():
                    report("LIKE scan", *measure(app, asked, clock))
            db.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (a schema is made)")
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--baseline", action="store_true", help="also time the plain LIKE scan")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--cpu", action="store_true",
                        help="time with this thread's CPU clock instead of the wall clock: on a busy machine a "
                             "steadier figure for SQLite (in-process), but it leaves out PostgreSQL's own work")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    if args.pg:
        with pg_schema(args.pg, prefix="bench") as url:
            run_backend("PostgreSQL", url, args)
    else:
        print("\nPostgreSQL skipped: give --pg URL or set TEST_DATABASE_URL")


if __name__ == "__main__":
    main()
