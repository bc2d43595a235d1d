"""PATCH /listings/{id}: what the seller may change, when, and the way back into review."""
from __future__ import annotations

import pytest

from marketplace.signals import listing_status_changed
from tests.marketplace.test_listings import API
from tests.factories import set_listing, upload


def patch(client, actor, listing_id, body):
    return client.patch(f"{API}/listings/{listing_id}", json=body, headers=actor.headers if actor else {})


def test_seller_edits_every_editable_field(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    pic = upload(client.application, seller.id)
    changes = {"title": "  降价:iPhone 13  ", "description": "再降两百", "price_cents": 230000,
               "images": [pic], "category": "phones", "condition": "good", "city": "北京"}
    r = patch(client, seller, listing["id"], changes)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["title"] == "降价:iPhone 13"
    assert {k: body[k] for k in changes if k != "title"} == {k: v for k, v in changes.items() if k != "title"}
    assert body["kind"] == "sale" and body["status"] == "active" and body["created_at"] == listing["created_at"]
    assert body["updated_at"] > listing["updated_at"]
    assert client.get(f"{API}/listings/{listing['id']}").get_json() == body


def test_partial_edit_leaves_other_fields_alone(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    body = patch(client, seller, listing["id"], {"city": "杭州"}).get_json()
    assert body["city"] == "杭州"
    assert {k: v for k, v in body.items() if k not in ("city", "updated_at")} == \
        {k: v for k, v in listing.items() if k not in ("city", "updated_at")}


BAD_EDITS = [
    ("empty body", {}, "_schema"),
    ("status is not editable", {"status": "sold"}, "status"),
    ("kind is not editable", {"kind": "donation"}, "kind"),
    ("seller_id is not editable", {"seller_id": 1}, "seller_id"),
    ("favorite_count is not editable", {"favorite_count": 1000}, "favorite_count"),
    ("blank title", {"title": "  "}, "title"),
    ("title too long", {"title": "x" * 81}, "title"),
    ("null title", {"title": None}, "title"),
    ("price as string", {"price_cents": "100"}, "price_cents"),
    ("sale price zero", {"price_cents": 0}, "price_cents"),
    ("ten images", {"images": ["http://localhost/api/v1/uploads/x.jpg"] * 10}, "images"),
    ("unknown condition", {"condition": "mint"}, "condition"),
]


@pytest.mark.parametrize("case, body, field", BAD_EDITS, ids=[c[0] for c in BAD_EDITS])
def test_edit_rejects_bad_input(client, factory, case, body, field):
    seller = factory.user()
    listing = factory.listing(seller)
    r = patch(client, seller, listing["id"], body)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] == "validation_error"
    assert field in r.get_json()["error"]["details"]["fields"]
    assert client.get(f"{API}/listings/{listing['id']}").get_json() == listing


@pytest.mark.parametrize("price, expected", [(0, 200), (1, 400), (500, 400)])
def test_donation_price_must_stay_zero(client, factory, price, expected):
    seller = factory.user()
    listing = factory.donation(seller)
    r = patch(client, seller, listing["id"], {"price_cents": price})
    assert r.status_code == expected, r.get_json()


@pytest.mark.parametrize("status", ["active", "reserved", "pending_review"])
def test_edit_keeps_an_editable_status(client, factory, status):
    seller = factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status=status)
    r = patch(client, seller, listing["id"], {"title": "新标题"})
    assert r.status_code == 200 and r.get_json()["status"] == status


@pytest.mark.parametrize("status", ["sold", "given", "withdrawn", "removed"])
def test_final_listing_cannot_be_edited(client, factory, status):
    seller = factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status=status)
    r = patch(client, seller, listing["id"], {"title": "还能改吗"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "listing_not_editable"
    assert client.get(f"{API}/listings/{listing['id']}", headers=seller.headers).get_json()["title"] != "还能改吗"


def test_editing_a_rejected_listing_resubmits_it_for_review(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status="rejected", review_note="含违禁词")
    seen = []

    def receiver(_app, **kw):
        seen.append(kw)

    with listing_status_changed.connected_to(receiver):
        r = patch(client, seller, listing["id"], {"description": "已删除违规内容"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "pending_review" and r.get_json()["review_note"] is None
    assert seen == [{"listing_id": listing["id"], "old_status": "rejected",
                     "new_status": "pending_review", "actor_id": seller.id}]
    # Still hidden from everyone else until an admin approves it.
    assert client.get(f"{API}/listings/{listing['id']}").status_code == 404


def test_plain_edit_emits_no_status_signal(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    seen = []
    with listing_status_changed.connected_to(lambda _app, **kw: seen.append(kw)):
        assert patch(client, seller, listing["id"], {"title": "改个标题"}).status_code == 200
    assert seen == []


def test_edit_of_unknown_listing_is_404(client, factory):
    assert patch(client, factory.user(), 424242, {"title": "x"}).status_code == 404
