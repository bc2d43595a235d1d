"""Benchmark of `RedisBroker.publish_many` with many channels live in the process: one pair published to a
channel of this process, as a commit publishes a message to a user with a socket here, while N other users'
channels are subscribed (N idle sockets in the worker).

Prints the p50 of each N. To compare two code trees, run this script from each, alternating, in one session.
Redis comes from `--redis URL` (default: the machine's, database 12; nothing is stored, only published).

    .venv/bin/python bench/broker_publish.py --live 100,10000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chat.broker.redis import RedisBroker  # noqa: E402


def measure(url: str, live: int, calls: int, warmup: int) -> float:
    """The median seconds of one publish_many with `live` channels subscribed here."""
    broker = RedisBroker(url)
    try:
        subs = [broker.subscribe(f"bench:user:{i}", lambda payload: None) for i in range(live)]
        deadline = time.monotonic() + 60
        while not all(sub.ready.is_set() for sub in subs):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{live} channels not live within 60 s")
            time.sleep(0.1)
        samples = []
        for _ in range(warmup + calls):
            started = time.perf_counter()
            broker.publish_many([("bench:user:1", "x")])
            samples.append(time.perf_counter() - started)
        return statistics.median(samples[warmup:])
    finally:
        broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--live", default="100,10000", help="comma list of channel counts")
    parser.add_argument("--calls", type=int, default=2500)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()
    for live in (int(n) for n in args.live.split(",")):
        p50 = measure(args.redis, live, args.calls, args.warmup)
        print(f"live channels {live:>6}: publish_many p50 {p50 * 1e6:7.1f} µs")


if __name__ == "__main__":
    main()
