"""CPU of one send batch in the app's process (`send_many`: validation, the batch's transaction, publishing to
the in-process broker), by batch size, on PostgreSQL or SQLite.

Five buyer–seller pairs in item groups, as the relay has at P=5; each round sends `size` messages round the
pairs and measures the process's CPU time (`time.process_time`, so not the database server's) and the wall
time of the call. Prints the 10th, 25th and 50th percentiles per size: CPU time on a shared machine moves
between rounds, and the low percentiles move least. To compare two code trees, run it from each in turn,
twice (ABBA). PostgreSQL comes from `--pg URL` or TEST_DATABASE_URL, in a private schema dropped at the end.

    .venv/bin/python bench/batch_cpu.py --sizes 1,9,100 --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rest_send import app_with_tables, item_chat  # noqa: E402
from chat.messages.batch import SendRequest, send_many  # noqa: E402
from core.db import db  # noqa: E402
from tests.support.databases import pg_schema  # noqa: E402

PAIRS = 5


def run(database_url: str, sizes: list[int], rounds: int, warmup: int) -> None:
    with app_with_tables(database_url) as (app, client, factory):
        pairs = [(group_id, seller.id, buyer.id)
                 for group_id, seller, buyer in (item_chat(client, factory) for _ in range(PAIRS))]
        n = 0
        for size in sizes:
            cpu, wall = [], []
            for i in range(warmup + rounds):
                requests = []
                for k in range(n, n + size):
                    group_id, seller_id, buyer_id = pairs[k % PAIRS]
                    requests.append(SendRequest(sender_id=seller_id if k % 2 else buyer_id, group_id=group_id,
                                                client_id=f"c{k}", type="txt", body={"text": f"{k} 你好,还在吗?"}))
                n += size
                with app.app_context():
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    outcomes = send_many(requests)
                    cpu1, wall1 = time.process_time(), time.perf_counter()
                    db.remove()
                assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
                if i >= warmup:
                    cpu.append((cpu1 - cpu0) * 1e6)
                    wall.append((wall1 - wall0) * 1e6)
            cpu.sort()
            print(f"size {size:4d}: CPU µs a batch p10 {cpu[len(cpu) // 10]:7.0f}  p25 {cpu[len(cpu) // 4]:7.0f}  "
                  f"p50 {statistics.median(cpu):7.0f}  (a message {statistics.median(cpu) / size:5.0f})  "
                  f"wall p50 {statistics.median(wall):7.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,9,100", help="batch sizes, comma separated")
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL server URL")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with ExitStack() as stack:
        if args.sqlite:
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.sqlite3"
        elif args.pg:
            url = stack.enter_context(pg_schema(args.pg, prefix="bench"))
        else:
            parser.error("give --pg URL (or TEST_DATABASE_URL), or --sqlite")
        run(url, sizes, args.rounds, args.warmup)


if __name__ == "__main__":
    main()
