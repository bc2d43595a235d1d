"""The chaos run by hand: ten buyer–seller pairs exchange 500 messages each through two gunicorn gevent
processes (PostgreSQL, a private Redis) while the harness drops client sockets at random, restarts
Redis once and SIGKILLs one app process and starts it again. Prints the counts; exits 1 when any
count that must be zero is not (duplicates, missing, out_of_order, phantom_acks, unfinished).

    .venv/bin/python bench/chaos.py --pg postgresql://root@127.0.0.1:5432/test      (or: make chaos)

The harness is tests/support/chaos.py; tests/chat/test_chaos.py runs a shorter version in `make test`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.chaos import run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL URL (default: TEST_DATABASE_URL); the run uses a private schema")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=500, help="messages per pair, half from each side")
    parser.add_argument("--window", type=int, default=4, help="sends in flight per client")
    parser.add_argument("--drop-every", type=float, default=0.25, help="mean seconds between socket drops")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before unfinished clients count")
    args = parser.parse_args()
    if not args.pg:
        parser.error("the chaos run needs PostgreSQL: pass --pg URL or set TEST_DATABASE_URL")
    os.environ["TEST_DATABASE_URL"] = args.pg
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        report = run_chaos(Path(tmp), pairs=args.pairs, messages=args.messages, window=args.window,
                           drop_every_s=args.drop_every, seed=args.seed, timeout_s=args.timeout)
    for name in ("sent", "acked", "stored", "delivered", "duplicates", "missing", "out_of_order", "phantom_acks",
                 "resends", "send_errors", "reconnects", "drops", "redis_restarts", "kills", "unfinished", "seconds"):
        print(f"{name:>15} {getattr(report, name)}")
    if report.bad():
        print(f"FAILED: {report.bad()}")
        return 1
    print("OK: nothing lost, duplicated, reordered or acknowledged without being stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
