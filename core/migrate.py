"""Apply Alembic migrations (`flask --app app migrate`, `make run`) under a lock; `--check` says if behind."""
from __future__ import annotations

import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Alembic announces each of its plugins at INFO when first imported: noise in every app's log.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
from alembic import command  # noqa: E402  (after the logger is quieted)
from alembic.config import Config as AlembicConfig  # noqa: E402
from alembic.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# pg_advisory_lock key: any fixed 64-bit number, the same in every process of every version.
ADVISORY_LOCK_KEY = 0x7061697061690001

log = logging.getLogger(__name__)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    return Path(database) if url.startswith("sqlite") and database and database != ":memory:" else None


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the database's migration lock: a session advisory lock on PostgreSQL, an exclusive lock on a
    file next to the database on SQLite; a second process waits here until the first is done."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        with open(sqlite_file.with_name(sqlite_file.name + ".migrate-lock"), "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`, holding the migration lock."""
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def revisions(url: str) -> tuple[set[str], set[str]]:
    """(the database's current revisions, the code's head revisions)."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    if (sqlite_file := _sqlite_file(url)) is not None and not sqlite_file.exists():
        return set(), heads  # never migrated; don't create an empty file by looking
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


@click.command("migrate")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when the database is behind the code.")
def migrate_command(check: bool) -> None:
    """Apply all migrations to the configured database (under a lock), or check that none is due."""
    url = current_app.config["DATABASE_URL"]
    if check:
        current, heads = revisions(url)
        if current != heads:
            click.echo(f"database is behind: at {sorted(current) or 'no revision'}, the code is at "
                       f"{sorted(heads)}; run `flask --app app migrate`", err=True)
            sys.exit(1)
        click.echo(f"database is at the latest migration ({', '.join(sorted(heads))})")
        return
    upgrade(url)
    click.echo("database is at the latest migration")


def init_app(app: Flask) -> None:
    app.cli.add_command(migrate_command)
