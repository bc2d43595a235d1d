"""Why hiredis slowed the reference relay: redis-py's two RESP parsers, with and without gevent, one client.

Each mode runs in its own process (gevent's monkey-patching cannot be undone): PUBLISH commands back to back
through a connection pool, as Flask-SocketIO's Redis queue publishes one emit, timed per command. With
hiredis, redis-py 8 asks `select.poll()` whether a pooled connection has data before each command
(`_HiredisParser.can_read`); under gevent that is gevent's cooperative poll, which starts and stops a libev
watcher and yields to the hub. The pure-Python parser asks with a non-blocking `recv`, which does neither.

    .venv/bin/python -m pip install hiredis==3.5.0     # not in any requirements file: this script only
    .venv/bin/python -m bench.redis_parsers --redis redis://127.0.0.1:6379/9
    .venv/bin/python -m pip uninstall -y hiredis
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COMMANDS = 3000


def one_mode(url: str, patched: bool, parser_name: str, rounds: int) -> dict:
    """Runs in the child: `rounds` x COMMANDS publishes; µs per command by round, and the cost of can_read alone."""
    if patched:
        from gevent import monkey
        monkey.patch_all()
    import redis
    from redis._parsers import _HiredisParser, _RESP2Parser

    parser = _HiredisParser if parser_name == "hiredis" else _RESP2Parser
    client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, parser_class=parser))
    client.ping()
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(COMMANDS):
            client.publish("bench-parsers", "x")
        per_round.append((time.perf_counter() - started) / COMMANDS * 1e6)
    conn = client.connection_pool.get_connection()
    started = time.perf_counter()
    for _ in range(COMMANDS):
        conn.can_read()
    can_read_us = (time.perf_counter() - started) / COMMANDS * 1e6
    yields = None
    if patched:  # does can_read let other greenlets run? One that only counts and yields says so.
        import gevent
        ticks = [0]

        def count() -> None:
            while True:
                ticks[0] += 1
                gevent.sleep(0)

        counter = gevent.spawn(count)
        gevent.sleep(0)
        before = ticks[0]
        for _ in range(1000):
            conn.can_read()
        yields = ticks[0] - before
        counter.kill()
    client.connection_pool.release(conn)
    return {"publish_us": per_round, "can_read_us": can_read_us, "other_greenlet_ran": yields}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("GEVENT", "PARSER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_mode(args.redis, args.child[0] == "gevent", args.child[1], args.rounds)))
        return
    try:
        import hiredis  # noqa: F401
    except ImportError:
        raise SystemExit("hiredis is not installed: see this script's docstring") from None
    print(f"{COMMANDS} PUBLISH per round, {args.rounds} rounds per mode; µs per command (median of rounds)")
    for threads in ("threads", "gevent"):
        for parser_name in ("pure", "hiredis"):
            out = subprocess.run([sys.executable, "-m", "bench.redis_parsers", "--redis", args.redis, "--rounds",
                                  str(args.rounds), "--child", threads, parser_name],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out)
            rounds = ", ".join(f"{v:.1f}" for v in result["publish_us"])
            print(f"  {threads:8} {parser_name:8} publish {statistics.median(result['publish_us']):7.1f} µs "
                  f"(rounds {rounds}); can_read alone {result['can_read_us']:6.2f} µs"
                  + ("" if result["other_greenlet_ran"] is None else
                     f"; another ready greenlet ran {result['other_greenlet_ran']} times during 1,000 can_read"))


if __name__ == "__main__":
    main(sys.argv[1:])
