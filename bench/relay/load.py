"""One load-generator process: some buyer–seller pairs, each side a sender keeping W messages in flight.

Both apps are driven by the same machinery (asyncio on uvloop, aiohttp's C-accelerated WebSocket
for PaiPai, python-socketio's asyncio client — aiohttp underneath — for the reference), so the two
sides cost the client alike. A message is in flight from its send until its receiver has it; each
delivery lets its sender send the next one. The body carries the sender's message number and
send time (CLOCK_MONOTONIC, shared by the processes of the machine), so the receiver measures
latency and counts every number it sees: nothing may go missing or arrive twice.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from array import array
from dataclasses import dataclass, field

import aiohttp

DRAIN_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 60.0


@dataclass
class Side:
    """One sender/receiver of a pair: its socket, what it sent, what it received from its peer."""

    name: str
    send: object = None  # async callable(text)
    peer: Side | None = None
    sent: int = 0
    in_flight: int = 0
    seen: set = field(default_factory=set)
    dups: int = 0


@dataclass
class Window:
    """The shared clock of a run: warm-up until `measure_from`, count until `measure_to`, then stop sending."""

    measure_from: float
    measure_to: float
    latencies: array = field(default_factory=lambda: array("d"))
    delivered: int = 0

    @property
    def sending(self) -> bool:
        return time.monotonic() < self.measure_to


def _text(n: int) -> str:
    return f"{n} {time.monotonic_ns()} 你好,还在吗?"


def received(side: Side, text: str, window: Window) -> Side | None:
    """Account one delivery at `side` of its peer's message; returns the peer when it may send again."""
    now = time.monotonic()
    n, sent_ns, _ = text.split(" ", 2)
    n = int(n)
    peer = side.peer
    if n in side.seen:
        side.dups += 1
        return None
    side.seen.add(n)
    peer.in_flight -= 1
    if window.measure_from <= now < window.measure_to:
        window.delivered += 1
        window.latencies.append(now * 1000 - int(sent_ns) / 1e6)
    return peer if window.sending else None


async def send_next(side: Side) -> None:
    side.sent += 1
    side.in_flight += 1
    await side.send(_text(side.sent))


# ----- PaiPai over /ws ----------------------------------------------------------------

async def paipai_side(session: aiohttp.ClientSession, ws_url: str, token: str, group_id: int, name: str,
                      window_box: list) -> tuple[Side, asyncio.Task]:
    ws = await session.ws_connect(f"{ws_url}?access_token={token}", max_msg_size=0, autoping=True)
    hello = json.loads((await ws.receive()).data)
    assert hello["op"] == "hello", hello
    await ws.send_str(json.dumps({"op": "sync", "cursor": hello["cursor"]}))
    while True:
        frame = json.loads((await ws.receive()).data)
        if frame["op"] == "synced":
            break
    side = Side(name)
    # client_ids are unique per run: a repeated one is answered with the first message (idempotent send)
    prefix = f'{{"op":"send","group_id":{group_id},"type":"txt","client_id":"{name}-{os.urandom(4).hex()}-'

    async def send(text: str) -> None:
        await ws.send_str(f'{prefix}{side.sent}","body":{{"text":{json.dumps(text, ensure_ascii=False)}}}}}')

    side.send = send

    async def read() -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op = frame["op"]
            if op == "message":
                nxt = received(side, frame["message"]["body"]["text"], window_box[0])
                if nxt is not None:
                    await send_next(nxt)
            elif op == "error":
                raise RuntimeError(f"error frame: {frame}")

    return side, asyncio.ensure_future(read())


# ----- the reference over Socket.IO ---------------------------------------------------

async def reference_side(url: str, room: str, name: str, window_box: list) -> tuple[Side, object]:
    import socketio
    sio = socketio.AsyncClient(reconnection=False)
    side = Side(name)

    @sio.on("msg")
    async def on_msg(data: dict) -> None:
        nxt = received(side, data["t"], window_box[0])
        if nxt is not None:
            await send_next(nxt)

    await sio.connect(url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_S)
    await sio.call("join", room, timeout=CONNECT_TIMEOUT_S)

    async def send(text: str) -> None:
        await sio.emit("msg", {"room": room, "t": text})

    side.send = send
    return side, sio


# ----- the process ----------------------------------------------------------------------

async def _run(spec: dict, ready, start_at, results) -> None:
    window_box: list = [Window(float("inf"), float("inf"))]
    sides: list[Side] = []
    closers = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S))
    try:
        for pair in spec["pairs"]:
            if spec["target"] == "reference":
                a, ca = await reference_side(spec["url"], pair["room"], pair["a"], window_box)
                b, cb = await reference_side(spec["url"], pair["room"], pair["b"], window_box)
                closers += [ca.disconnect, cb.disconnect]
            else:
                a, ta = await paipai_side(session, spec["ws_url"], pair["token_a"], pair["group_id"], pair["a"],
                                          window_box)
                b, tb = await paipai_side(session, spec["ws_url"], pair["token_b"], pair["group_id"], pair["b"],
                                          window_box)
                closers += [ta.cancel, tb.cancel]
            a.peer, b.peer = b, a
            sides += [a, b]
        ready.put(len(sides))
        loop = asyncio.get_running_loop()
        t0 = await loop.run_in_executor(None, start_at.get)
        window = Window(t0 + spec["warmup"], t0 + spec["warmup"] + spec["duration"])
        window_box[0] = window
        await asyncio.sleep(max(0.0, t0 - time.monotonic()))
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        for side in sides:
            for _ in range(spec["in_flight"]):
                await send_next(side)
        await asyncio.sleep(max(0.0, window.measure_to - time.monotonic()))
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        drain_deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while any(s.in_flight > 0 for s in sides) and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a late duplicate would show up here
        results.put({
            "delivered": window.delivered,
            "latencies": window.latencies.tobytes(),
            "sent": sum(s.sent for s in sides),
            "received": sum(len(s.seen) for s in sides),
            "lost": sum(s.peer.sent - len(s.seen) for s in sides),
            "dups": sum(s.dups for s in sides),
            "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        })
    finally:
        for close in closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        await session.close()


def run_process(spec: dict, ready, start_at, results) -> None:
    """Entry point of a load process (spawned)."""
    import uvloop
    try:
        uvloop.run(_run(spec, ready, start_at, results))
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise
