"""The app as real servers for tests: gunicorn gevent processes, an app of a test's own, a JSON client.

Every wait is bounded. Processes started here are stopped with SIGTERM, then SIGKILL
(their own process group only). Users, listings and groups are made through the
server's REST API (`HttpApi`), so they carry real tokens.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import core.models_registry  # noqa: F401 - the whole schema for create_all
from core.db import Base
from tests.factories import PASSWORD, Actor
from tests.support.apps import close_app, make_app
from tests.support.databases import free_port, pg_schema

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def with_query(url: str, **params: str) -> str:
    """`url` with query parameters added (e.g. application_name, which psycopg passes to the server)."""
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@contextmanager
def pg_database() -> Iterator[str]:
    """A private PostgreSQL schema holding every table (create_all), dropped afterwards."""
    with pg_schema() as url:
        engine = create_engine(url, poolclass=NullPool)
        try:
            Base.metadata.create_all(engine)
        finally:
            engine.dispose()
        yield url


@contextmanager
def shared_database(tmp: Path) -> Iterator[str]:
    """A database several processes can share, every table made: a PostgreSQL schema when
    TEST_DATABASE_URL is set, else a SQLite file."""
    if os.environ.get("TEST_DATABASE_URL"):
        with pg_database() as url:
            yield url
        return
    url = f"sqlite:///{Path(tmp) / 'shared.sqlite3'}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    yield url


class GunicornServer:
    """`gunicorn -k gevent -w N 'app:create_app()'` on a free port, as in production, with APP_ENV=testing."""

    def __init__(self, directory: Path, *, database_url: str, redis_url: str | None = None,
                 workers: int = 1, name: str = "app", extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.directory = Path(directory) / name
        self.database_url = database_url
        self.redis_url = redis_url
        self.workers = workers
        self.extra_args = extra_args  # more gunicorn options, e.g. ("--access-logfile", path)
        self.extra_env = env or {}  # settings for the app, e.g. {"WS_MAX_FRAME_BYTES": "4096"}
        self.port = 0
        self._process: subprocess.Popen | None = None
        self._log = self.directory / "gunicorn.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = START_TIMEOUT_S) -> GunicornServer:
        """Start the master and its workers; return once `/healthz` answers 200 (or raise with the log)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
        env.update(APP_ENV="testing", DATABASE_URL=self.database_url, INSTANCE_DIR=str(self.directory),
                   UPLOAD_DIR=str(self.directory / "uploads"), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(self.workers),
               "-b", f"127.0.0.1:{self.port}", "--no-control-socket", "--graceful-timeout", "3",
               "--log-level", "warning", *self.extra_args, "app:create_app()"]
        with open(self._log, "ab") as log:
            self._process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self._healthy():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy on port {self.port}:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        return healthy(self.port)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM the master (graceful), then SIGKILL its process group if it is still there."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:  # still there, not reaped: its group is ours (start_new_session)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once (their process group): nothing graceful happens."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self._log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, exc_type, *exc_info) -> None:
        self.stop()
        if exc_type is not None:  # shown with the failing test's output
            print(f"--- gunicorn log of {self.directory.name} ---\n{self.log_tail()}")


@contextmanager
def own_app(directory: Path, database_url: str, **settings: Any) -> Iterator[Flask]:
    """An app of its own on an existing database (tables made), with settings overridden, e.g.
    REDIS_URL or WS_SYNC_BATCH; its broker and engine are closed afterwards. Serve it with
    `tests.support.wsclient.serve`."""
    app = make_app(directory, database_url, **settings)
    try:
        yield app
    finally:
        close_app(app)


class HttpApi:
    """A small JSON client of `/api/v1` over real sockets; one keep-alive connection per thread."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self._local = threading.local()

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        while True:
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, f"/api/v1{path}", body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                return response.status, json.loads(raw) if raw else None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                if not reused:  # a kept-alive connection the server had closed is retried, afresh
                    raise

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return conn

    def expect(self, status: int | tuple[int, ...], method: str, path: str, body: Any = None,
               token: str | None = None) -> Any:
        got, data = self.call(method, path, body, token)
        wanted = status if isinstance(status, tuple) else (status,)
        assert got in wanted, f"{method} {path}: {got} {data}"
        return data

    def user(self, prefix: str = "u") -> Actor:
        """Register a fresh user and log in: an Actor with a real token."""
        username = f"{prefix}{uuid.uuid4().hex[:12]}"
        self.expect(201, "POST", "/users", {"username": username, "password": PASSWORD})
        data = self.expect(200, "POST", "/token", {"grant_type": "password", "username": username,
                                                   "password": PASSWORD})
        return Actor(id=data["user"]["id"], username=username, token=data["access_token"])

    def listing(self, seller: Actor, title: str = "九成新 iPhone 13 128G") -> int:
        body = {"kind": "sale", "title": title, "description": "自用一年,无划痕。", "price_cents": 250000,
                "category": "electronics", "condition": "like_new", "city": "上海", "images": []}
        return self.expect(201, "POST", "/listings", body, seller.token)["id"]

    def inquiry(self, buyer: Actor, listing_id: int) -> int:
        return self.expect((200, 201), "POST", f"/listings/{listing_id}/inquiries", token=buyer.token)["id"]

    def direct(self, a: Actor, b: Actor) -> int:
        return self.expect((200, 201), "POST", f"/users/{b.id}/direct", token=a.token)["id"]

    def send(self, actor: Actor, group_id: int, client_id: str, text: str,
             status: int | tuple[int, ...] = (200, 201)) -> dict:
        """POST a txt message; the stored message (201 new, 200 for a repeated client_id)."""
        return self.expect(status, "POST", f"/groups/{group_id}/messages",
                           {"client_id": client_id, "type": "txt", "body": {"text": text}}, actor.token)


def healthy(port: int) -> bool:
    """Whether a server on `port` answers /healthz with 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()
