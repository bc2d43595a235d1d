"""What an idle socket holds (issue 17's memory per socket): its handler's thread and nothing more.

simple-websocket's reader thread is never started (the handler reads its socket itself), and the
connection's writer runs only while it has something to send: the watch queues the heartbeat ping
(tests/chat/test_ws_liveness.py: pings answered keep a socket, a silent one is closed)."""
from __future__ import annotations

import threading
import time

from chat.ws.outbox import Item, Outbox
from tests.support.wsclient import WsClient, wait_until


def _socket_threads() -> list[str]:
    """Threads of this process that belong to one socket beside its handler: writers, library readers."""
    return [t.name for t in threading.enumerate() if t.name.startswith("ws-writer") or "simple_websocket" in t.name]


def test_an_idle_socket_keeps_no_thread_beside_its_handler(live_server, chat, inquiry_pair):
    seller, buyer, group_id = inquiry_pair
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.ready()
        assert wait_until(lambda: not _socket_threads()), _socket_threads()
        chat.send(buyer, group_id, "还在吗", client_id="m1")
        assert ws.op("message")["message"]["client_id"] == "m1"  # a writer started for it...
        assert wait_until(lambda: not _socket_threads()), _socket_threads()  # ...and retired
        ws.send({"op": "ping"})
        assert ws.op("pong")["op"] == "pong"
    finally:
        ws.close()


class _Writers:
    """A writer for an Outbox under test: counts its starts, and drains and retires like the real one."""

    def __init__(self) -> None:
        self.started = 0
        self.items: list[str] = []
        self.box: Outbox | None = None
        self.done = threading.Event()

    def __call__(self) -> None:
        self.started += 1
        assert self.box is not None
        while True:
            item = self.box.get_nowait()
            while item is not None:
                self.items.append(item.kind)
                item = self.box.get_nowait()
            if self.box.retire():
                self.done.set()
                return


def test_the_outbox_starts_a_writer_only_when_none_runs():
    writers = _Writers()
    box = writers.box = Outbox(10, owner="test", writer=writers, on_overflow=lambda: None)
    box.put(Item("frame", "before hello"))
    time.sleep(0.05)
    assert writers.started == 0  # nothing is written before the connection says hello
    box.start_writer()
    assert writers.done.wait(5)
    assert writers.started == 1 and writers.items == ["frame"]
    writers.done.clear()
    box.put(Item("beat"))
    assert writers.done.wait(5)
    assert writers.started == 2 and writers.items == ["frame", "beat"]
