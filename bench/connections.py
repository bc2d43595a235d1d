"""Idle-connection benchmark: how many authenticated sockets one gevent worker holds, and the memory each costs.

Starts the README's production command (`gunicorn -k gevent -w 4 -b … 'app:create_app()'`, read from
README.md, gunicorn.conf.py included) with one worker on a free port (PostgreSQL in a private schema and a
private Redis, or `--db sqlite` with the in-process broker), registers N users through the API, then opens one
authenticated `/ws` per user from `--procs` client processes (source addresses 127.0.0.2, .3, …
so no ephemeral-port range runs out), each socket answering `hello` with `sync` like a real client.
Then it holds them for `--hold` seconds (longer than the 25 s heartbeat, so every socket gets its
ping and the process's session re-check) and reports the worker's RSS before and after and the sockets
still open, times /healthz while they are all open, and opens one socket more than it holds (with
10,000 sockets, the one past WS_MAX_SOCKETS: refused with 503 before the upgrade).
Goal: >= 10,000 sockets (WS_MAX_SOCKETS, the default), <= 50 KB of RSS per socket.

    make bench-connections                 # or:
    .venv/bin/python -m bench.connections --sockets 10000 --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.servers import Gunicorn, database, private_redis, rss_bytes
from tests.support.production import serve_command

HEARTBEAT_S = 25.0  # the production default (chat.ws.connection.Settings)


def hold_sockets(ws_url: str, tokens: list[str], source_ip: str, in_flight: int, ready, release, results) -> None:
    """A client process: open one socket per token from `source_ip`, sync, then stay idle until released."""
    import json

    import aiohttp
    import uvloop

    async def run() -> None:
        connector = aiohttp.TCPConnector(limit=0, local_addr=(source_ip, 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            sockets, readers, opened, failed = [], [], 0, 0
            sem = asyncio.Semaphore(in_flight)

            async def open_one(token: str) -> None:
                # A refused open (1013 / service_unavailable while hundreds authenticate at once) is
                # retried the way a client reconnects: after a pause, at most 3 times.
                nonlocal opened, failed
                for attempt in range(3):
                    async with sem:
                        try:
                            ws = await session.ws_connect(f"{ws_url}?access_token={token}", autoping=True,
                                                          heartbeat=None)
                            hello = await frame(ws)
                            if hello["op"] != "hello":
                                raise ValueError(f"no hello: {hello}")
                            await ws.send_str(json.dumps({"op": "sync", "cursor": hello["cursor"]}))
                            while (await frame(ws))["op"] != "synced":
                                pass
                        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError) as exc:
                            print(f"socket open attempt {attempt + 1} failed: {exc!r}", flush=True)
                            await asyncio.sleep(1 + attempt)
                            continue
                    sockets.append(ws)
                    # Read from now on, as a client does: aiohttp answers the heartbeat pings only while
                    # the socket is read (sockets left unread while the rest opened were cut after 2 pings).
                    readers.append(asyncio.ensure_future(_drain(ws)))
                    opened += 1
                    return
                failed += 1

            await asyncio.gather(*(open_one(t) for t in tokens))
            ready.put((opened, failed))
            await asyncio.get_running_loop().run_in_executor(None, release.get)
            still_open = sum(1 for ws in sockets if not ws.closed)
            results.put(still_open)
            for r in readers:
                r.cancel()

    uvloop.run(run())


async def frame(ws) -> dict:
    import json

    import aiohttp
    msg = await ws.receive(timeout=60)
    if msg.type != aiohttp.WSMsgType.TEXT:
        raise ValueError(f"socket closed: {msg.type.name} {msg.data} {msg.extra}")
    return json.loads(msg.data)


async def _drain(ws) -> None:
    # Reading keeps aiohttp answering the server's pings; the server sends nothing else to an idle user.
    async for _msg in ws:
        pass


def healthz(url: str) -> str:
    """/healthz's status, body and time, asked on a new connection while the sockets are open."""
    import urllib.error
    import urllib.request
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=30) as response:
            answer = f"{response.status} {response.read().decode().strip()}"
    except urllib.error.HTTPError as exc:
        answer = f"{exc.code} {exc.read().decode().strip()}"
    except OSError as exc:
        answer = f"no answer: {exc!r}"
    return f"{answer} in {(time.monotonic() - started) * 1000:.0f} ms"


def one_more_socket(url: str, token: str) -> str:
    """The answer to a WebSocket upgrade beyond the sockets held: its status line and Retry-After."""
    import base64
    import http.client
    import os
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", f"/ws?access_token={token}", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
        response = conn.getresponse()
        body = response.read(300).decode(errors="replace") if response.status != 101 else ""
        return f"{response.status} {response.reason}, Retry-After: {response.getheader('Retry-After')} {body}"
    except OSError as exc:
        return f"no answer: {exc!r}"
    finally:
        conn.close()


def make_tokens(url: str, count: int, threads: int = 8) -> list[str]:
    from tests.support.servers import HttpApi
    api = HttpApi(url)
    with ThreadPoolExecutor(threads) as pool:
        return [actor.token for actor in pool.map(lambda _i: api.user("c"), range(count))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=4, help="client processes, one source address each")
    parser.add_argument("--hold", type=float, default=HEARTBEAT_S + 15, help="seconds to hold every socket open")
    parser.add_argument("--in-flight", type=int, default=10,
                        help="handshakes in flight per client process (each one authenticates in the database)")
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg", help="PostgreSQL server URL to use (a schema is made there); default: a private "
                                     "cluster started for the run (initdb)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.sockets + 2048
    if soft < want:  # inherited by the server and the clients
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    with tempfile.TemporaryDirectory(prefix="connections-") as tmp, ExitStack() as stack:
        tmp = Path(tmp)
        env = {"APP_ENV": "testing", "INSTANCE_DIR": str(tmp / "app"), "UPLOAD_DIR": str(tmp / "app" / "uploads")}
        env["DATABASE_URL"] = stack.enter_context(database(args.db, tmp, args.pg))
        if args.db == "postgresql":
            env["REDIS_URL"] = stack.enter_context(private_redis(tmp))[0]
        command = serve_command(workers=1, bind="127.0.0.1:{port}")
        print("server:", " ".join(command), flush=True)
        server = Gunicorn("app:create_app()", workers=1, env=env, directory=tmp / "app", name="app", command=command)
        stack.callback(server.stop)
        started = time.monotonic()
        try:
            tokens = make_tokens(server.url, args.sockets + 1)
            tokens, extra_token = tokens[:-1], tokens[-1]
        except AssertionError:
            print(server.tail())
            raise
        print(f"{len(tokens)} users registered in {time.monotonic() - started:.0f} s", flush=True)
        worker = server.workers()[0]
        time.sleep(2)
        rss_before = rss_bytes(worker)
        ctx = mp.get_context("spawn")
        ready, release, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
        procs = [ctx.Process(target=hold_sockets, daemon=True, args=(
            server.url.replace("http://", "ws://") + "/ws", tokens[i::args.procs], f"127.0.0.{2 + i}",
            args.in_flight, ready, release, results)) for i in range(args.procs)]
        started = time.monotonic()
        for p in procs:
            p.start()
        counts = [ready.get(timeout=max(900.0, args.sockets * 0.3)) for _ in procs]
        opened, failed = sum(c[0] for c in counts), sum(c[1] for c in counts)
        print(f"{opened} sockets open ({failed} failed) in {time.monotonic() - started:.0f} s; holding "
              f"{args.hold:.0f} s", flush=True)
        time.sleep(args.hold)
        rss_after = rss_bytes(worker)
        health = [healthz(server.url) for _ in range(3)]
        past_limit = one_more_socket(server.url, extra_token)
        for _ in procs:
            release.put(True)
        still_open = sum(results.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(30)
        per_socket = (rss_after - rss_before) / max(opened, 1)
        print(f"\nworker RSS: {rss_before / 2**20:.1f} MiB before, {rss_after / 2**20:.1f} MiB with "
              f"{opened} sockets")
        print(f"sockets still open after {args.hold:.0f} s (heartbeat every {HEARTBEAT_S:.0f} s): {still_open}")
        print(f"/healthz with every socket open (3 asks): {'; '.join(health)}")
        print(f"socket {opened + 1:,} (one more than held): {past_limit}")
        print(f"RSS per socket: {per_socket / 1024:.1f} KB   (goal: >= 10,000 sockets, <= 50 KB each)")


if __name__ == "__main__":
    main()
