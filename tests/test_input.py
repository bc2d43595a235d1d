"""Input hygiene: NaN/Infinity, NUL characters and unpaired surrogates are refused with 400, never stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import db
from marketplace.models import Listing

API = "/api/v1"


@pytest.mark.parametrize("raw", [
    '{"title": "书架\\u0000", "kind": "sale"}',
    '{"title": "\\ud800", "kind": "sale"}',
    '{"title": "ok", "price_cents": NaN}',
    '{"title": "ok", "price_cents": Infinity}',
    '{"title": "ok", "images": ["\\udfff"]}',
])
def test_unstorable_json_is_invalid_json(client, factory, raw):
    seller = factory.user()
    r = client.post(f"{API}/listings", data=raw, content_type="application/json", headers=seller.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Listing)) == 0


def test_surrogate_pairs_and_emoji_escapes_are_fine(client, factory):
    seller = factory.user()
    listing = factory.listing(seller, title="😀 表情")
    assert listing["title"] == "😀 表情"
    r = client.post(f"{API}/listings", data='{"kind": "sale", "title": "\\ud83d\\ude00 书", "price_cents": 100, '
                                             '"category": "books", "condition": "good", "city": "北京"}',
                    content_type="application/json", headers=seller.headers)
    assert r.status_code == 201 and r.get_json()["title"] == "😀 书"


@pytest.mark.parametrize("query", ["q=%E4%B9%A6%00", "city=%00", "x%00=1"])
def test_nul_in_query_strings_is_refused(client, query):
    r = client.get(f"{API}/listings?{query}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def test_rest_message_with_unpaired_surrogate_is_refused(client, factory):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group = client.post(f"{API}/listings/{listing['id']}/inquiries", headers=buyer.headers).get_json()["id"]
    r = client.post(f"{API}/groups/{group}/messages", headers=buyer.headers, content_type="application/json",
                    data='{"client_id": "x1", "type": "txt", "body": {"text": "\\ud800"}}')
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    r = client.post(f"{API}/groups/{group}/messages", headers=buyer.headers,
                    json={"client_id": "x\u0000", "type": "txt", "body": {"text": "hi"}})
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/listings/9223372036854775808", "/users/453635679569496176245405122560/reviews",
                                  "/groups/169909874172208119808/messages"])
def test_ids_beyond_a_bigint_are_not_found_not_a_server_error(client, factory, path):
    # Found by the fuzzer: such ids used to reach the database driver and fail to bind (500).
    r = client.get(f"{API}{path}", headers=factory.user().headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", ["page=18420873829781090598912", "pagenum=100001", "seller_id=99999999999999999999",
                                   "min_price=10000000000000000000000"])
def test_out_of_range_numbers_in_queries_are_validation_errors(client, query):
    r = client.get(f"{API}/listings?{query}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"
    assert r.get_json()["error"]["details"]["fields"]


def test_history_bounds_far_beyond_any_seq_are_validation_errors(client, factory):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group = client.post(f"{API}/listings/{listing['id']}/inquiries", headers=buyer.headers).get_json()["id"]
    r = client.get(f"{API}/groups/{group}/messages?after_seq=9223372036854775808", headers=buyer.headers)
    assert r.status_code == 400 and "after_seq" in r.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("query", ["after_seq=2147483648", "before_seq=106898677901"])
def test_history_seqs_beyond_an_integer_column_are_validation_errors(client, factory, query):
    # Found by the fuzzer on PostgreSQL: a seq past INTEGER failed to bind (500); SQLite took it.
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    group = client.post(f"{API}/listings/{listing['id']}/inquiries", headers=buyer.headers).get_json()["id"]
    r = client.get(f"{API}/groups/{group}/messages?{query}", headers=buyer.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"
