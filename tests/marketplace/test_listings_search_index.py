"""The keyword search index: kept in step with every write, used by the queries, invisible to Alembic."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from core.db import db
from core.models_registry import metadata
from marketplace.listings.search_index import (
    create_search_index,
    drop_search_index,
    include_object,
    keyword_filter,
)
from marketplace.models import Listing
from tests.marketplace.test_listings import API
from tests.marketplace.test_listings_search import titles


def test_an_edited_listing_is_found_by_its_new_text_only(client, factory):
    seller = factory.user()
    listing = factory.listing(seller, title="宜家书架 白色", description="五层,稳固")
    r = client.patch(f"{API}/listings/{listing['id']}", json={"title": "原木餐桌", "description": "四把椅子"},
                     headers=seller.headers)
    assert r.status_code == 200, r.get_json()
    for gone in ("书架", "宜家书", "五层", "稳固"):
        assert titles(client, q=gone) == []
    for found in ("餐桌", "原木餐桌", "椅子", "四把椅"):
        assert titles(client, q=found) == ["原木餐桌"]


def test_a_deleted_listing_leaves_the_index(client, factory):
    listing = factory.listing(factory.user(), title="捷安特自行车", description="山地车")
    with client.application.app_context(), db.transaction() as s:
        s.execute(text("DELETE FROM listings WHERE id = :id"), {"id": listing["id"]})
    factory.listing(factory.user(), title="捷安特自行车 二手", description="公路车")
    assert titles(client, q="自行车") == ["捷安特自行车 二手"]
    assert titles(client, q="山地") == [] and titles(client, q="山地车") == []
    if client.application.extensions["db"].engine.dialect.name == "sqlite":
        with client.application.app_context():
            hits = db.session.execute(text("SELECT rowid FROM listings_fts WHERE listings_fts MATCH '\"山地车\"'"))
            assert hits.all() == []


@pytest.mark.parametrize("q", ["书架", "白色", "IP", "ad", "d2", "层,"])
def test_two_characters_match_anywhere_even_at_the_very_end(client, factory, q):
    factory.listing(factory.user(), title="书架 白色", description="iPad2 五层,")
    factory.listing(factory.user(), title="沙发", description="三人位")
    assert titles(client, q=q) == ["书架 白色"]


def test_rows_there_before_the_index_are_found(client, factory):
    """Making the index also indexes the rows already there (the migration of a filled database)."""
    factory.listing(factory.user(), title="降噪耳机", description="索尼 99新")
    with client.application.app_context(), db.engine.begin() as conn:
        drop_search_index(conn)
        create_search_index(conn)
    assert titles(client, q="耳机") == ["降噪耳机"] and titles(client, q="索尼 9") == ["降噪耳机"]


@pytest.mark.parametrize("q, index", [("书架", "ix_listings_bigrams"), ("宜家书架", "ix_listings_title_trgm")])
def test_postgresql_plans_can_use_the_search_indexes_for_short_and_long_q(clean_app, factory, q, index):
    if clean_app.extensions["db"].engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    factory.listing(factory.user(), title="宜家书架", category="furniture")
    with clean_app.app_context():
        stmt = select(Listing.id).where(keyword_filter("postgresql", q))
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
    assert index in plan, plan


def test_alembic_leaves_the_search_index_out_of_its_comparison(clean_app):
    with clean_app.app_context(), db.engine.connect() as conn:
        unfiltered = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        filtered = compare_metadata(MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}), metadata)
    assert unfiltered != [] and filtered == []
