"""The Alembic migrations build exactly the schema the models declare."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from core.migrate import upgrade
from core.models_registry import metadata
from marketplace.listings.search_index import include_object
from tests.support.databases import pg_schema


def _assert_no_drift(url: str, **engine_kwargs) -> None:
    upgrade(url)
    engine = create_engine(url, **engine_kwargs)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_match_models_on_sqlite(tmp_path):
    _assert_no_drift(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_migrations_match_models_on_postgresql():
    with pg_schema() as url:
        _assert_no_drift(url)
