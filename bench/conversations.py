"""Benchmark of GET /conversations: the first page of 20 for a user with 100 and one with 10,000 conversations.

Seeds both users (bulk inserts) on SQLite and on PostgreSQL, then requests the first page many times
per user through the app (auth, the one SQL statement, serialization) and prints p50/p99 per user and
the ratio 10,000 vs 100. Goal: ratio <= 1.5 and p50 <= 15 ms. PostgreSQL comes from `--pg URL` or
TEST_DATABASE_URL and runs in a private schema dropped at the end.

    .venv/bin/python bench/conversations.py --runs 1000 --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from chat.models import ChatGroup, ChatMember, ChatMessage  # noqa: E402
from config import TestingConfig  # noqa: E402
from core.db import Base, db, utcnow  # noqa: E402
from marketplace.models import Listing, User  # noqa: E402
from marketplace.users.services import issue_token, register_user  # noqa: E402
from tests.support.databases import pg_schema  # noqa: E402

PASSWORD = "bench password 1"
MESSAGES_PER_GROUP = 3




def make_app(database_url: str, tmp: str):
    cfg = TestingConfig()
    cfg.INSTANCE_DIR, cfg.DATABASE_URL, cfg.REDIS_URL = tmp, database_url, None
    cfg.UPLOAD_DIR = str(Path(tmp) / "uploads")
    return create_app(cfg)


def seed(counts: dict[str, int]) -> dict[str, str]:
    """Create one measured user per entry with that many conversations (half item, half direct); their tokens."""
    rng = random.Random(7)
    now = utcnow()
    tokens, next_id = {}, {"user": 1_000_000, "listing": 1, "group": 1, "message": 1}

    def take(kind: str) -> int:
        next_id[kind] += 1
        return next_id[kind]

    measured = {name: register_user(username=f"bench_{name}", password=PASSWORD).id for name in counts}
    for name, count in counts.items():
        me = measured[name]
        users, listings, groups, members, messages = [], [], [], [], []
        for i in range(count):
            peer = take("user")
            users.append({"id": peer, "username": f"p{peer}", "password_hash": "-", "nickname": f"买家{peer}",
                          "bio": "", "role": "user", "rating_count": 0, "rating_total": 0, "created_at": now})
            gid, at = take("group"), now - timedelta(seconds=rng.randint(0, 30 * 86400))
            group = {"id": gid, "description": "", "read_only": False, "last_seq": MESSAGES_PER_GROUP,
                     "created_at": at - timedelta(hours=1), "last_message_at": at, "listing_id": None,
                     "buyer_id": None, "seller_id": None, "direct_key": None}
            if i % 2:
                group.update(kind="direct", direct_key=f"{min(me, peer)}:{max(me, peer)}")
            else:
                lid = take("listing")
                listings.append({"id": lid, "seller_id": me, "kind": "sale", "title": f"闲置物品 {lid}",
                                 "description": "", "price_cents": 100 + i, "category": "other",
                                 "condition": "good", "images": [], "city": "上海", "status": "active",
                                 "favorite_count": 0, "created_at": at, "updated_at": at})
                group.update(kind="item", listing_id=lid, buyer_id=peer, seller_id=me)
            for seq in range(1, MESSAGES_PER_GROUP + 1):
                mid = take("message")
                messages.append({"id": mid, "group_id": gid, "seq": seq, "sender_id": peer if seq % 2 else me,
                                 "type": "txt", "body": {"text": f"第{seq}条消息"}, "client_id": f"b{mid}",
                                 "created_at": at - timedelta(minutes=MESSAGES_PER_GROUP - seq)})
            group["last_message_id"] = messages[-1]["id"]
            groups.append(group)
            for uid in (me, peer):
                members.append({"group_id": gid, "user_id": uid, "role": "member", "joined_at": group["created_at"],
                                "activity_at": at, "last_read_seq": rng.randint(0, MESSAGES_PER_GROUP)})
        with db.transaction() as s:
            for model, rows in ((User, users), (Listing, listings), (ChatGroup, groups),
                                (ChatMember, members), (ChatMessage, messages)):
                if rows:
                    s.execute(insert(model.__table__), rows)
        tokens[name] = issue_token(username=f"bench_{name}", password=PASSWORD)[0]
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return tokens


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(app, tokens: dict[str, str], runs: int, limit: int) -> dict[str, list[float]]:
    client = app.test_client()
    times: dict[str, list[float]] = {name: [] for name in tokens}
    for round_ in range(runs + 20):  # the first 20 rounds warm caches and are not counted
        for name, token in tokens.items():
            start = time.perf_counter()
            r = client.get(f"/api/v1/conversations?limit={limit}", headers={"Authorization": f"Bearer {token}"})
            elapsed = (time.perf_counter() - start) * 1000
            assert r.status_code == 200 and len(r.get_json()["items"]) == limit, r.get_json()
            if round_ >= 20:
                times[name].append(elapsed)
    return times


def run_backend(label: str, database_url: str, counts: dict[str, int], runs: int, limit: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(database_url, tmp)
        with app.app_context():
            Base.metadata.create_all(db.engine)
            started = time.perf_counter()
            tokens = seed(counts)
            seeded = time.perf_counter() - started
            total = db.session.scalar(select(text("count(*)")).select_from(ChatGroup.__table__))
            times = measure(app, tokens, runs, limit)
            db.remove()
            db.engine.dispose()
    print(f"\n{label}: {total} groups seeded in {seeded:.1f} s; {runs} requests per user, page of {limit}")
    p50 = {}
    for name, samples in times.items():
        p50[name] = statistics.median(samples)
        print(f"  {name:>6} conversations: p50 {p50[name]:6.2f} ms   p99 {percentile(samples, 0.99):6.2f} ms")
    small, large = counts
    print(f"  ratio p50 {large} / {small}: {p50[large] / p50[small]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (a schema is made)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    counts = {str(args.small): args.small, str(args.large): args.large}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", counts, args.runs, args.limit)
    if args.pg:
        with pg_schema(args.pg, prefix="bench") as url:
            run_backend("PostgreSQL", url, counts, args.runs, args.limit)
    else:
        print("\nPostgreSQL skipped: give --pg URL or set TEST_DATABASE_URL")


if __name__ == "__main__":
    main()
