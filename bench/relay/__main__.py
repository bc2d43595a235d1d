"""Relay benchmark: PaiPai's /ws against Flask-SocketIO + Redis (bench/reference), same workload, same run.

It starts every target at once, as its users start it, makes P buyer–seller pairs on each (for
PaiPai: real users, listings and inquiry groups through the REST API), then runs each repeat of
each load on each target in turn, in reverse order every other repeat (the machine's background load
falls on all alike): both sides' sockets opened from `--procs` load processes, W messages in flight per
sender for `--warmup` + `--duration` seconds. It prints delivered msgs/s, send-to-receive latency p50/p99 at the
receivers, lost/duplicated counts, the CPU each party used, and the ratios PaiPai / reference.

    make bench-relay                       # or:
    .venv/bin/python -m bench.relay --repeat 3    # PostgreSQL: a private cluster with default settings

`--pg URL` puts the schema on an existing server instead: check that it vacuums (`SHOW autovacuum`); without
autovacuum the member rows' dead versions pile up for the whole run and PostgreSQL's figures fall run after run.

Targets: `sqlite` is `make run` (one gevent worker, the embedded SQLite file, the in-process broker),
`pg` the README's production command (gunicorn.conf.py) with `-w 2`, APP_ENV=production, PostgreSQL
(a private schema) and Redis; both with only the per-user send and per-address registration limits
off. `reference` is Flask-SocketIO with its Redis message queue under gunicorn -k gevent -w 2, its
Redis pool uncapped; `reference1` is its docs' literal single worker. Every Redis is private to
the run, on a free port.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.relay.load import run_process
from bench.servers import (
    ROOT,
    Gunicorn,
    cpu_seconds,
    database,
    pids_named,
    postgres_bindir,
    private_redis,
)
from tests.support.production import serve_command

TARGETS = {
    "pg": {"label": "PaiPai: the README's production command, 2 workers, PostgreSQL + Redis",
           "db": "postgresql", "redis": True},
    "sqlite": {"label": "PaiPai: `make run` (one gevent worker, SQLite file, in-process broker)", "db": "sqlite",
               "redis": False},
    "reference": {"label": "Flask-SocketIO + Redis queue, 2 workers", "workers": 2, "db": None, "redis": True},
    "reference1": {"label": "Flask-SocketIO + Redis queue, 1 worker (docs)", "workers": 1, "db": None,
                   "redis": True},
}
#: the only settings changed from what a user runs: the per-user send limits (60/min) and the registrations
#: per address (20/hour) would refuse the benchmark's traffic, which is what they are for
UNLIMITED = {"RATE_LIMIT_SEND": "off", "RATE_LIMIT_SEND_SUSTAINED": "off", "RATE_LIMIT_REGISTER_IP": "off"}
#: Flask-SocketIO's Redis client pool, uncapped: redis-py 8 caps a pool at 100 connections, and past
#: them the queue's publishes fail and are dropped (at-most-once)
REFERENCE_POOL = "max_connections=10000"


@dataclass
class Target:
    """One started server: where it answers, its worker and infrastructure processes, its pairs."""

    name: str
    server: Gunicorn
    infra_fixed: list[int]
    infra_named: list[str]
    pairs: list[dict]

    def infra_pids(self) -> list[int]:
        return self.infra_fixed + [pid for n in self.infra_named for pid in pids_named(n)]


def percentile(samples, q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def make_pairs(target: str, url: str, count: int) -> list[dict]:
    """P pairs. PaiPai: a seller with a listing and a buyer who opened an inquiry, through the API."""
    if target.startswith("reference"):
        return [{"room": f"pair-{i}", "a": f"b{i}", "b": f"s{i}"} for i in range(count)]
    from tests.support.servers import HttpApi
    api = HttpApi(url)

    def pair(i: int) -> dict:
        seller, buyer = api.user("s"), api.user("b")
        listing = api.expect(201, "POST", "/listings", {
            "kind": "sale", "title": f"九成新 自行车 {i}", "description": "通勤用,保养很好。", "price_cents": 45000,
            "category": "sports", "condition": "good", "city": "杭州", "images": []}, seller.token)
        group = api.expect((200, 201), "POST", f"/listings/{listing['id']}/inquiries", None, buyer.token)
        return {"group_id": group["id"], "a": f"b{i}", "b": f"s{i}", "token_a": buyer.token,
                "token_b": seller.token}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(pair, range(count)))


def run_load(target: str, url: str, pairs: list[dict], *, in_flight: int, procs: int, warmup: float,
             duration: float, server_pids: list[int], infra_pids: Callable[[], list[int]],
             profile_dir: Path | None = None) -> dict:
    ctx = mp.get_context("spawn")
    ready, start_at, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    ws_url = url.replace("http://", "ws://") + "/ws"
    chunks = [pairs[i::procs] for i in range(procs) if pairs[i::procs]]
    workers = [ctx.Process(target=run_process, daemon=True, args=(
        {"target": target, "url": url, "ws_url": ws_url, "pairs": chunk, "in_flight": in_flight,
         "warmup": warmup, "duration": duration}, ready, start_at, results)) for chunk in chunks]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            got = ready.get(timeout=180)
            if isinstance(got, dict):
                raise RuntimeError(f"load process failed: {got}")  # noqa: TRY004 - an error report, not a type
        t0 = time.monotonic() + 0.3
        for _ in workers:
            start_at.put(t0)
        time.sleep(max(0.0, t0 + warmup - time.monotonic()))
        infra = infra_pids()  # now: database backends are forked as the workers connect
        server0, infra0 = cpu_seconds(server_pids), cpu_seconds(infra)
        spies = [profile(pid, duration, profile_dir) for pid in server_pids] if profile_dir else []
        time.sleep(max(0.0, t0 + warmup + duration - time.monotonic()))
        server1, infra1 = cpu_seconds(server_pids), cpu_seconds(infra)
        for spy in spies:
            spy.wait(30)
        parts = [results.get(timeout=duration + 120) for _ in workers]
    finally:
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.terminate()
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        raise RuntimeError(f"load process failed: {errors}")
    latencies = array("d")
    for p in parts:
        latencies.frombytes(p["latencies"])
    delivered = sum(p["delivered"] for p in parts)
    return {"msgs_s": delivered / duration, "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99), "sent": sum(p["sent"] for p in parts),
            "received": sum(p["received"] for p in parts), "lost": sum(p["lost"] for p in parts),
            "dups": sum(p["dups"] for p in parts),
            "cpu": {"server": (server1 - server0) / duration, "infra": (infra1 - infra0) / duration,
                    "clients": sum(p["cpu_s"] for p in parts) / duration}}


def profile(pid: int, duration: float, directory: Path) -> subprocess.Popen:
    """py-spy samples one server worker for the measured window: collapsed stacks (flame graph input)."""
    directory.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
                             "-d", str(int(duration)), "-r", "200", "-f", "raw",
                             "-o", str(directory / f"worker-{pid}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_target(target: str, args, tmp: Path, stack: ExitStack, pairs: int) -> Target:
    """Start one target as its users start it and make its pairs; stopped when `stack` closes.

    `<target>@base` is the same PaiPai stack served from the checkout at `--base` (its code, its
    migrations), to compare two versions in one run."""
    name, _, base = target.partition("@")
    spec = TARGETS[name]
    tree = Path(args.base).resolve() if base else ROOT
    env: dict[str, str] = {}
    infra_fixed: list[int] = []
    infra_named: list[str] = []
    if spec["redis"]:
        redis_url, redis_proc = stack.enter_context(private_redis(tmp))
        env["REDIS_URL"] = redis_url
        infra_fixed.append(redis_proc.pid)
    directory = tmp / target
    if spec["db"] is None:
        env["REDIS_URL"] += ("&" if "?" in env["REDIS_URL"] else "?") + REFERENCE_POOL
        server = Gunicorn("bench.reference.app:create_app()", workers=spec["workers"], env=env, directory=directory,
                          name=target, health_path="/")
    elif spec["db"] == "sqlite":  # `make run` on its embedded default, its data in a folder of this run
        env.update(UNLIMITED, HOST="127.0.0.1", PORT="{port}", INSTANCE_DIR=str(directory / "instance"))
        server = Gunicorn("", workers=1, env=env, directory=directory, name=target, command=["make", "-s", "run"],
                          cwd=tree)
    else:  # the README's production command with two workers, on a schema its own migrations made
        db_url = stack.enter_context(database(spec["db"], directory, args.pg, create=False))
        env.update(UNLIMITED, APP_ENV="production", SECRET_KEY=f"relay-bench-{os.getpid()}-{time.time_ns()}",
                   DATABASE_URL=db_url, INSTANCE_DIR=str(directory / "instance"))
        migrate(tree, env)
        infra_named.append("postgres")  # with --pg URL this counts every postgres process of that server
        server = Gunicorn("", workers=2, env=env, directory=directory, name=target,
                          command=serve_command(workers=2, bind="127.0.0.1:{port}"), cwd=tree)
    stack.callback(server.stop)
    time.sleep(1.0)  # let every worker finish booting
    return Target(target, server, infra_fixed, infra_named, make_pairs(target, server.url, pairs))


def migrate(tree: Path, env: dict[str, str]) -> None:
    """`flask --app app migrate` of the checkout at `tree`, as a deployment runs it before the servers."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "migrate"], cwd=tree, env={**full_env, **env},
                   check=True, capture_output=True)


def run_all(targets: list[str], loads: list[tuple[int, int]], args, tmp: Path) -> list[dict]:
    """Every target started at once, then each repeat of each load run on each target in turn, so that
    the machine's changing background load falls on all of them alike; every other repeat takes the
    targets in reverse order, so that neither a drift over the run nor a place in the order favours one."""
    out = []
    with ExitStack() as stack:
        started = []
        for target in targets:
            print(f"{target}: {TARGETS[target.partition('@')[0]]['label']}", flush=True)
            started.append(start_target(target, args, tmp, stack, max(p for p, _ in loads)))
        for r in range(args.repeat):
            for p, w in loads:
                for t in (started if r % 2 == 0 else started[::-1]):
                    profile_dir = Path(args.profile) / f"{t.name}-{p}x{w}-{r + 1}" if args.profile else None
                    res = run_load(t.name, t.server.url, t.pairs[:p], in_flight=w, procs=args.procs,
                                   warmup=args.warmup, duration=args.duration, server_pids=t.server.workers(),
                                   infra_pids=t.infra_pids, profile_dir=profile_dir)
                    res.update(target=t.name, pairs=p, in_flight=w, run=r + 1)
                    out.append(res)
                    print(f"  {t.name:<10} P={p:<4} W={w:<3} run {r + 1}: {res['msgs_s']:8.0f} msgs/s  "
                          f"p50 {res['p50_ms']:7.2f} ms  p99 {res['p99_ms']:7.2f} ms  lost {res['lost']}  "
                          f"dup {res['dups']}  cpu server {res['cpu']['server']:.2f} infra {res['cpu']['infra']:.2f} "
                          f"clients {res['cpu']['clients']:.2f}", flush=True)
                    if not t.server.alive():
                        raise RuntimeError(f"{t.name} died:\n{t.server.tail()}")
    return out


def summarize(results: list[dict], targets: list[str], loads: list[tuple[int, int]]) -> dict:
    """Medians per (target, load) and the ratios of each PaiPai target to the stronger reference."""
    med = {}
    for t in targets:
        for p, w in loads:
            runs = [r for r in results if r["target"] == t and r["pairs"] == p and r["in_flight"] == w]
            if runs:
                med[(t, p, w)] = {k: statistics.median(r[k] for r in runs) for k in ("msgs_s", "p50_ms", "p99_ms")}
                med[(t, p, w)]["lost"] = sum(r["lost"] for r in runs)
                med[(t, p, w)]["dups"] = sum(r["dups"] for r in runs)
    print("\nMedians of", max((r["run"] for r in results), default=0), "run(s):")
    print(f"{'target':<11}{'P':>5}{'W':>4}{'msgs/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'lost':>6}{'dup':>5}")
    for (t, p, w), m in med.items():
        print(f"{t:<11}{p:>5}{w:>4}{m['msgs_s']:>10.0f}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}{m['lost']:>6}"
              f"{m['dups']:>5}")
    refs = [t for t in targets if t.startswith("reference")]
    ours = [t for t in targets if not t.startswith("reference")]
    ratios = {}
    for p, w in loads:
        ref_runs = [med[(t, p, w)] for t in refs if (t, p, w) in med]
        if not ref_runs:
            continue
        ref = max(ref_runs, key=lambda m: m["msgs_s"])
        for t in ours:
            if (t, p, w) in med:
                m = med[(t, p, w)]
                ratios[f"{t} P={p} W={w}"] = {"throughput": m["msgs_s"] / ref["msgs_s"],
                                             "p99": m["p99_ms"] / ref["p99_ms"]}
    if ratios:
        print("\nRatios against the stronger reference (goal: throughput >= 1.5, p99 <= 1.0):")
        for name, r in ratios.items():
            print(f"  {name:<18} throughput x{r['throughput']:.2f}   p99 x{r['p99']:.2f}")
    against_base = {}
    for t in ours:
        for p, w in loads:
            if t.endswith("@base") or (t, p, w) not in med or (f"{t}@base", p, w) not in med:
                continue
            now, before = med[(t, p, w)], med[(f"{t}@base", p, w)]
            against_base[f"{t} P={p} W={w}"] = {"throughput": now["msgs_s"] / before["msgs_s"],
                                                "p99": now["p99_ms"] / before["p99_ms"]}
    if against_base:
        print("\nThis checkout against --base (same run):")
        for name, r in against_base.items():
            print(f"  {name:<18} throughput x{r['throughput']:.3f}   p99 x{r['p99']:.2f}")
    return {"medians": [{"target": t, "pairs": p, "in_flight": w, **m} for (t, p, w), m in med.items()],
            "ratios": ratios, "against_base": against_base}


def parse_loads(text: str) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in part.split("x")) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="pg,sqlite,reference", help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--loads", default="20x8,100x4", help="PxW,... pairs x messages in flight per sender")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes")
    parser.add_argument("--pg", help="PostgreSQL server URL to use (a schema is made there); default: a private "
                                     "cluster started for the run (initdb)")
    parser.add_argument("--profile", help="write py-spy samples of the server workers under this folder")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "relay.json"))
    parser.add_argument("--base", help="another checkout of PaiPai (e.g. a git worktree of the commit before a "
                                       "change): targets named `sqlite@base`, `pg@base` are served from it")
    args = parser.parse_args()
    targets = args.targets.split(",")
    if any(t.endswith("@base") for t in targets) and not args.base:
        parser.error("targets @base need --base PATH")
    if not args.pg and postgres_bindir() is None:
        for t in [t for t in targets if t.partition("@")[0] == "pg"]:
            print(f"{t} skipped: no PostgreSQL server binaries for a private cluster; give --pg URL")
            targets.remove(t)
    loads = parse_loads(args.loads)
    with tempfile.TemporaryDirectory(prefix="relay-") as tmp:
        results = run_all(targets, loads, args, Path(tmp))
    summary = summarize(results, targets, loads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "args": vars(args), "runs": results, **summary}, indent=1))
    print(f"\nwritten: {out}")


def machine() -> dict:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory": mem.split(":")[1].strip(), "python": sys.version.split()[0],
            "load_before": os.getloadavg()}


if __name__ == "__main__":
    main()
