"""Apply Alembic migrations programmatically (`flask --app app migrate`, `make run`)."""
from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask, current_app

# Alembic announces each of its plugins at INFO when first imported: noise in every app's log.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
from alembic import command  # noqa: E402  (after the logger is quieted)
from alembic.config import Config as AlembicConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


@click.command("migrate")
def migrate_command() -> None:
    """Apply all migrations to the configured database."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is at the latest migration")


def init_app(app: Flask) -> None:
    app.cli.add_command(migrate_command)
