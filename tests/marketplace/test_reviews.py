"""Reviews: seller and buyer rate each other once per sold/given listing; profiles aggregate them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.marketplace.test_listings import API, STATUSES
from tests.factories import set_listing
from tests.support.concurrency import concurrently

REVIEW_KEYS = {"id", "listing_id", "reviewer", "reviewee_id", "role", "rating", "text", "created_at"}


def review(client, actor, listing_id, **body):
    return client.post(f"{API}/listings/{listing_id}/reviews", json=body, headers=actor.headers)


def profile(client, viewer, user_id) -> dict:
    return client.get(f"{API}/users/{user_id}", headers=viewer.headers).get_json()


def reviews_of(client, viewer, user_id, **query):
    return client.get(f"{API}/users/{user_id}/reviews", query_string=query, headers=viewer.headers)


@pytest.fixture
def deal(client, factory):
    """A listing its seller sold to a buyer (through the status API)."""
    seller, buyer = factory.user(nickname="卖家"), factory.user(nickname="买家")
    listing = factory.listing(seller)
    factory.inquiry(buyer, listing["id"])
    client.post(f"{API}/listings/{listing['id']}/status", json={"status": "reserved", "buyer_id": buyer.id},
                headers=seller.headers)
    r = client.post(f"{API}/listings/{listing['id']}/status", json={"status": "sold"}, headers=seller.headers)
    assert r.get_json()["status"] == "sold"
    return seller, buyer, listing["id"]


def test_seller_and_buyer_review_each_other(client, deal):
    seller, buyer, lid = deal
    r = review(client, seller, lid, rating=5, text="爽快的买家👍")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == REVIEW_KEYS
    assert body["listing_id"] == lid and body["reviewee_id"] == buyer.id and body["role"] == "seller"
    assert body["reviewer"] == {"id": seller.id, "nickname": "卖家", "avatar_url": None}
    assert body["rating"] == 5 and body["text"] == "爽快的买家👍"
    r = review(client, buyer, lid, rating=4)
    assert r.status_code == 201
    assert r.get_json()["role"] == "buyer" and r.get_json()["reviewee_id"] == seller.id
    assert r.get_json()["text"] == ""


def test_each_side_reviews_once(client, deal):
    seller, buyer, lid = deal
    assert review(client, buyer, lid, rating=5).status_code == 201
    r = review(client, buyer, lid, rating=1, text="改主意了")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_reviewed"
    assert profile(client, buyer, seller.id)["rating_count"] == 1
    assert profile(client, buyer, seller.id)["rating_avg"] == 5


def test_concurrent_double_review_counts_once(client, deal):
    seller, buyer, lid = deal
    calls = [("POST", f"/listings/{lid}/reviews", buyer.headers, {"rating": 2})] * 4
    assert sorted(concurrently(client, calls)) == [201, 409, 409, 409]
    body = profile(client, buyer, seller.id)
    assert body["rating_count"] == 1 and body["rating_avg"] == 2


def test_ratings_aggregate_on_the_profile(client, factory):
    seller = factory.user()
    assert profile(client, seller, seller.id)["rating_avg"] is None
    for rating in (5, 4, 4):
        buyer = factory.user()
        listing = factory.listing(seller)
        set_listing(client.application, listing["id"], status="sold", buyer_id=buyer.id)
        assert review(client, buyer, listing["id"], rating=rating).status_code == 201
    body = profile(client, factory.user(), seller.id)
    assert body["rating_count"] == 3 and body["rating_avg"] == 4.33
    me = client.get(f"{API}/me", headers=seller.headers).get_json()
    assert me["rating_count"] == 3


def test_recipient_of_a_donation_reviews_the_giver(client, factory):
    giver, recipient = factory.user(), factory.user()
    listing = factory.donation(giver)
    set_listing(client.application, listing["id"], status="given", buyer_id=recipient.id)
    r = review(client, recipient, listing["id"], rating=5, text="谢谢!书架很结实")
    assert r.status_code == 201 and r.get_json()["reviewee_id"] == giver.id
    assert review(client, giver, listing["id"], rating=5).get_json()["reviewee_id"] == recipient.id


def test_seller_without_a_recorded_buyer_has_no_one_to_review(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status="sold", buyer_id=None)
    r = review(client, seller, listing["id"], rating=5)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_counterparty"


@pytest.mark.parametrize("status", [s for s in STATUSES if s not in ("sold", "given")])
def test_unfinished_deals_cannot_be_reviewed(client, factory, status):
    seller, buyer = factory.user(), factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status=status, buyer_id=buyer.id)
    r = review(client, seller, listing["id"], rating=5)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "deal_not_done"
    r = review(client, buyer, listing["id"], rating=5)
    # A listing hidden from the buyer (removed, in review, rejected) does not exist for them.
    expected = 404 if status in ("removed", "pending_review", "rejected") else 409
    assert r.status_code == expected


def test_bystanders_cannot_review(client, factory, deal):
    _seller, _buyer, lid = deal
    r = review(client, factory.user(), lid, rating=1)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_a_party"


@pytest.mark.parametrize("body, field", [
    ({}, "rating"), ({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"rating": "5"}, "rating"),
    ({"rating": 4.5}, "rating"), ({"rating": None}, "rating"), ({"rating": 5, "text": "好" * 501}, "text"),
    ({"rating": 5, "text": 5}, "text"), ({"rating": 5, "reviewee_id": 1}, "reviewee_id"),
    ({"rating": 5, "role": "buyer"}, "role"),
])
def test_bad_review_input_is_400(client, deal, body, field):
    seller, _buyer, lid = deal
    r = review(client, seller, lid, **body)
    assert r.status_code == 400 and field in r.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "' OR 1=1; --", "五星好评🌟🌟🌟", "好" * 500])
def test_review_text_is_kept_verbatim(client, deal, text):
    seller, buyer, lid = deal
    assert review(client, buyer, lid, rating=5, text=text).status_code == 201
    assert reviews_of(client, seller, seller.id).get_json()["items"][0]["text"] == text


def test_reviews_list_is_newest_first_and_paged(client, factory):
    seller = factory.user()
    made = []
    for n in range(3):
        buyer = factory.user()
        listing = factory.listing(seller, title=f"物品{n}")
        set_listing(client.application, listing["id"], status="sold", buyer_id=buyer.id)
        made.append(review(client, buyer, listing["id"], rating=n + 3, text=f"第{n}条").get_json()["id"])
    body = reviews_of(client, seller, seller.id).get_json()
    assert [item["id"] for item in body["items"]] == made[::-1] and body["total"] == 3
    assert all(item["role"] == "buyer" and item["reviewee_id"] == seller.id for item in body["items"])
    page2 = reviews_of(client, seller, seller.id, pagenum=2, pagesize=2).get_json()
    assert [item["id"] for item in page2["items"]] == [made[0]] and page2["page_size"] == 2
    assert reviews_of(client, seller, seller.id, page_size=101).status_code == 400


def test_reviews_written_are_not_reviews_received(client, deal):
    seller, buyer, lid = deal
    review(client, seller, lid, rating=5)
    assert reviews_of(client, seller, seller.id).get_json()["total"] == 0
    assert reviews_of(client, seller, buyer.id).get_json()["total"] == 1


def test_reviews_of_unknown_user_is_404(client, factory):
    r = reviews_of(client, factory.user(), 424242)
    assert r.status_code == 404


def test_review_timestamps_are_utc(client, deal):
    seller, _buyer, lid = deal
    created = review(client, seller, lid, rating=3).get_json()["created_at"]
    assert datetime.fromisoformat(created).tzinfo == timezone.utc
