"""The Alembic migrations build exactly the schema the models declare."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from config.settings import normalize_database_url
from core.migrate import upgrade
from core.models_registry import metadata


def _assert_no_drift(url: str, **engine_kwargs) -> None:
    upgrade(url)
    engine = create_engine(url, **engine_kwargs)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_match_models_on_sqlite(tmp_path):
    _assert_no_drift(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_migrations_match_models_on_postgresql():
    base = normalize_database_url(os.environ["TEST_DATABASE_URL"])
    schema = f"migration_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in base else "?"
        _assert_no_drift(f"{base}{sep}options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
