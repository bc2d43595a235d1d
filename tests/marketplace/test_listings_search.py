"""GET /listings: keyword search (Chinese included), filters, sorting, paging, status rules."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.marketplace.test_listings import API
from tests.factories import set_listing


def search(client, actor=None, **query):
    return client.get(f"{API}/listings", query_string=query, headers=actor.headers if actor else {})


def titles(client, actor=None, **query) -> list[str]:
    r = search(client, actor, **query)
    assert r.status_code == 200, r.get_json()
    return [item["title"] for item in r.get_json()["items"]]


@pytest.fixture
def catalog(client, factory):
    """A seller with a few listings across kinds, categories, cities and prices."""
    seller, other = factory.user(), factory.user()
    made = {
        "shelf": factory.listing(seller, title="宜家书架 白色", description="五层,稳固", price_cents=15000,
                                 category="furniture", city="上海"),
        "phone": factory.listing(seller, title="iPhone 13 国行", description="送手机壳和充电器 axb",
                                 price_cents=250000, category="electronics", city="北京"),
        "percent": factory.listing(other, title="全新100%正品耳机", description="Sony 降噪",
                                   price_cents=90000, category="electronics", city="上海"),
        "hundred": factory.listing(other, title="1000元 捷安特自行车", description="a_b 型号",
                                   price_cents=100000, category="sports", city="杭州"),
        "donation": factory.donation(other, title="免费送:旧书架", description="自提,IPHONE 包装盒也送",
                                     city="上海"),
    }
    return seller, other, made


@pytest.mark.parametrize("q, expected", [
    ("书架", ["免费送:旧书架", "宜家书架 白色"]),          # two-character Chinese substring of titles
    ("手机", ["iPhone 13 国行"]),                         # matched in the description only
    ("iphone", ["免费送:旧书架", "iPhone 13 国行"]),       # ASCII is case-insensitive
    ("IPHONE 13", ["iPhone 13 国行"]),
    ("100%", ["全新100%正品耳机"]),                        # % is literal, not a wildcard
    ("a_b", ["1000元 捷安特自行车"]),                       # _ is literal too
    ("0%正", ["全新100%正品耳机"]),
    ("  书架  ", ["免费送:旧书架", "宜家书架 白色"]),       # surrounding blanks are ignored
    ("沙发", []),
])
def test_keyword_search(client, catalog, q, expected):
    assert titles(client, q=q) == expected


@pytest.mark.parametrize("q", ["书", "a", "  x  ", "长" * 51])
def test_keyword_length_is_checked(client, q):
    r = search(client, q=q)
    assert r.status_code == 400 and "q" in r.get_json()["error"]["details"]["fields"]


def test_wildcard_characters_alone_match_nothing_special(client, factory):
    factory.listing(factory.user(), title="普通标题")
    assert titles(client, q="%%") == [] and titles(client, q="__") == []
    assert titles(client, q="\\%") == []


@pytest.mark.parametrize("query, expected", [
    ({"kind": "donation"}, ["免费送:旧书架"]),
    ({"category": "electronics"}, ["全新100%正品耳机", "iPhone 13 国行"]),
    ({"city": "上海"}, ["免费送:旧书架", "全新100%正品耳机", "宜家书架 白色"]),
    ({"min_price": 90000}, ["1000元 捷安特自行车", "全新100%正品耳机", "iPhone 13 国行"]),
    ({"max_price": 15000}, ["免费送:旧书架", "宜家书架 白色"]),
    ({"min_price": 90000, "max_price": 90000}, ["全新100%正品耳机"]),
    ({"city": "上海", "kind": "sale", "q": "耳机"}, ["全新100%正品耳机"]),
    ({"city": "上海", "category": "electronics", "max_price": 50000}, []),
])
def test_filters_combine(client, catalog, query, expected):
    assert titles(client, **query) == expected


def test_seller_filter(client, catalog):
    seller, other, _made = catalog
    assert titles(client, seller_id=seller.id) == ["iPhone 13 国行", "宜家书架 白色"]
    assert len(titles(client, seller_id=other.id)) == 3
    assert titles(client, seller_id=999999) == []


@pytest.mark.parametrize("query", [
    {"min_price": 200, "max_price": 100}, {"kind": "auction"}, {"sort": "cheapest"},
    {"seller_id": "abc"}, {"min_price": -1}, {"status": "deleted"}, {"page_size": 101},
    {"pagesize": 101}, {"page": 0}, {"pagenum": 0}, {"page_size": "many"},
])
def test_bad_search_arguments_are_400(client, query):
    r = search(client, **query)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def test_sort_orders_break_ties_by_newest_id(client, factory):
    seller = factory.user()
    ids = {}
    for title, price in [("甲", 300), ("乙", 100), ("丙", 300), ("丁", 200)]:
        ids[title] = factory.listing(seller, title=title, price_cents=price)["id"]
    same_moment = datetime(2024, 5, 1, tzinfo=timezone.utc)
    for title in ("甲", "丙"):
        set_listing(client.application, ids[title], created_at=same_moment)
    assert titles(client) == ["丁", "乙", "丙", "甲"]
    assert titles(client, sort="newest") == ["丁", "乙", "丙", "甲"]
    assert titles(client, sort="price_asc") == ["乙", "丁", "丙", "甲"]
    assert titles(client, sort="price_desc") == ["丙", "甲", "丁", "乙"]


def test_paging_reports_total_and_never_repeats(client, factory):
    seller = factory.user()
    for n in range(7):
        factory.listing(seller, title=f"物品{n}", price_cents=100 * (n % 3 + 1))
    seen = []
    for page in (1, 2, 3):
        body = search(client, page=page, page_size=3, sort="price_asc").get_json()
        assert body["total"] == 7 and body["page"] == page and body["page_size"] == 3
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == 7 == len(set(seen))
    assert search(client, page=4, page_size=3).get_json()["items"] == []
    aliased = search(client, pagenum=2, pagesize=3, sort="price_asc").get_json()
    assert aliased["page"] == 2 and aliased["page_size"] == 3
    assert [item["id"] for item in aliased["items"]] == seen[3:6]
    default = search(client).get_json()
    assert default["page"] == 1 and default["page_size"] == 20 and default["total"] == 7


def test_default_search_shows_only_active(client, factory):
    seller = factory.user()
    by_status = {}
    for status in ("active", "reserved", "sold", "withdrawn", "pending_review", "rejected", "removed"):
        listing = factory.listing(seller, title=f"状态{status}")
        set_listing(client.application, listing["id"], status=status)
        by_status[status] = listing["id"]
    for actor in (None, seller):
        assert titles(client, actor) == ["状态active"]


@pytest.mark.parametrize("status", ["reserved", "sold", "given"])
def test_public_statuses_are_searchable_by_anyone(client, factory, status):
    seller = factory.user()
    listing = factory.listing(seller, title="公开的")
    set_listing(client.application, listing["id"], status=status)
    assert titles(client, status=status) == ["公开的"]


@pytest.mark.parametrize("status", ["withdrawn", "pending_review", "rejected", "removed"])
def test_private_statuses_list_only_own_listings(client, factory, status):
    alice, bob, admin = factory.user(), factory.user(), factory.admin()
    for owner, title in ((alice, "alice 的"), (bob, "bob 的")):
        listing = factory.listing(owner, title=title)
        set_listing(client.application, listing["id"], status=status)
    r = search(client, status=status)
    assert r.status_code == 401
    assert titles(client, alice, status=status) == ["alice 的"]
    assert titles(client, bob, status=status) == ["bob 的"]
    assert titles(client, bob, status=status, seller_id=alice.id) == []
    assert titles(client, admin, status=status) == ["bob 的", "alice 的"]
