"""`flask --app app migrate` takes a lock (two deploys never migrate at once); `migrate --check` exits 1 when behind."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from core.migrate import migration_lock, revisions
from tests.support.databases import pg_schema

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def empty_database(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL not set")
    with pg_schema() as url:
        yield url


def flask(url: str, tmp_path: Path, *args: str, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(APP_ENV="testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path), UPLOAD_DIR=str(tmp_path / "up"))
    cmd = [sys.executable, "-m", "flask", "--app", "app", "migrate", *args]
    if wait:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _waiting_for_the_lock(url: str, lock_file: Path) -> bool:
    """Another process is blocked on the migration lock (pg_locks / /proc/locks), not merely starting."""
    if url.startswith("sqlite"):
        inode = os.stat(lock_file).st_ino
        return any(line.split()[1] == "->" and line.split()[6].endswith(f":{inode}")
                   for line in Path("/proc/locks").read_text().splitlines() if "->" in line)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                          "AND NOT granted")).scalar())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_check_fails_when_behind_and_passes_once_migrated(kind, tmp_path):
    with empty_database(kind, tmp_path) as url:
        behind = flask(url, tmp_path, "--check")
        assert behind.returncode == 1 and "database is behind" in behind.stderr
        assert "alembic_version" not in _tables(url)  # the check changed nothing
        migrated = flask(url, tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        current = flask(url, tmp_path, "--check")
        assert current.returncode == 0 and "latest migration" in current.stdout
        assert revisions(url)[0] == revisions(url)[1]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_second_migration_waits_for_the_lock(kind, tmp_path):
    with empty_database(kind, tmp_path) as url:
        with migration_lock(url):
            waiting = flask(url, tmp_path, wait=False)
            lock_file = tmp_path / "deploy.sqlite3.migrate-lock"
            deadline = time.monotonic() + 60
            while not _waiting_for_the_lock(url, lock_file):
                assert waiting.poll() is None, waiting.communicate()
                assert time.monotonic() < deadline, "the migration never reached the lock"
                time.sleep(0.1)
            assert "alembic_version" not in _tables(url)  # blocked: nothing done while we hold it
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
        assert flask(url, tmp_path, "--check").returncode == 0
