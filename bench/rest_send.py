"""Benchmark of a REST send, `POST /api/v1/groups/{id}/messages`, through the app (auth, validation, the send's
transaction, serialization; the in-process broker publishes), on SQLite and PostgreSQL.

Two users talk in one item group, taking turns; each send is timed around the test client's request.
Prints p50/p99 per backend. To compare two code trees, run this script from each, alternating, in one
session (the machine's load moves the figures more than small code changes do). PostgreSQL comes from
`--pg URL` or TEST_DATABASE_URL and runs in a private schema dropped at the end.

    .venv/bin/python bench/rest_send.py --runs 500 --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from config import TestingConfig  # noqa: E402
from core.db import Base, db  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.support.databases import pg_schema  # noqa: E402


def make_app(database_url: str, tmp: str) -> Flask:
    cfg = TestingConfig()
    cfg.INSTANCE_DIR, cfg.DATABASE_URL, cfg.REDIS_URL = tmp, database_url, None
    cfg.UPLOAD_DIR = str(Path(tmp) / "uploads")
    return create_app(cfg)


@contextmanager
def app_with_tables(database_url: str) -> Iterator[tuple[Flask, FlaskClient, Factory]]:
    """The app on `database_url` with every table, its test client and a factory; its engine disposed after."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(database_url, tmp)
        with app.app_context():
            Base.metadata.create_all(db.engine)
        client = app.test_client()
        try:
            yield app, client, Factory(client)
        finally:
            with app.app_context():
                db.engine.dispose()


def item_chat(client: FlaskClient, factory: Factory) -> tuple[int, Any, Any]:
    """A new seller's listing and a new buyer's inquiry about it: the group's id, the seller, the buyer."""
    seller, buyer = factory.user(), factory.user()
    r = client.post(f"/api/v1/listings/{factory.listing(seller)['id']}/inquiries", headers=buyer.headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"], seller, buyer


def run(database_url: str, runs: int, warmup: int) -> list[float]:
    """Milliseconds of each timed send."""
    with app_with_tables(database_url) as (_, client, factory):
        group_id, seller, buyer = item_chat(client, factory)
        tokens = [seller.headers, buyer.headers]
        url = f"/api/v1/groups/{group_id}/messages"
        timings = []
        for i in range(warmup + runs):
            body = {"client_id": f"c{i}", "type": "txt", "body": {"text": f"还在吗?第 {i} 条"}}
            started = time.perf_counter()
            r = client.post(url, json=body, headers=tokens[i % 2])
            elapsed = (time.perf_counter() - started) * 1000
            assert r.status_code == 201, r.get_json()
            if i >= warmup:
                timings.append(elapsed)
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = [] if os.environ.get("REST_PG_ONLY") else [("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
        for name, url in backends:
            report(name, run(url, args.runs, args.warmup))
    if args.pg:
        with pg_schema(args.pg) as url:
            report("postgresql", run(url, args.runs, args.warmup))


def report(name: str, timings: list[float]) -> None:
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"REST send [{name}]: n={len(timings)} p50={statistics.median(timings):.2f} ms p99={p99:.2f} ms",
          flush=True)


if __name__ == "__main__":
    main()
