"""Creating and reading listings: validation, the listing body, visibility, verbatim text."""
from __future__ import annotations

import pytest
from tests.factories import set_listing, upload

API = "/api/v1"
LISTING_KEYS = {"id", "kind", "title", "description", "price_cents", "category", "condition", "images",
                "city", "status", "seller", "favorite_count", "buyer_id", "review_note",
                "created_at", "updated_at"}
STATUSES = ("active", "reserved", "sold", "given", "withdrawn", "removed", "pending_review", "rejected")
HIDDEN = ("removed", "pending_review", "rejected")


def sale_body(**overrides) -> dict:
    body = {"kind": "sale", "title": "宜家书架", "description": "八成新,自提", "price_cents": 9900,
            "category": "furniture", "condition": "good", "city": "上海", "images": []}
    body.update(overrides)
    return body


def test_create_sale_listing_returns_full_body(client, factory):
    seller = factory.user(nickname="小王")
    pic = upload(client.application, seller.id)
    r = client.post(f"{API}/listings", json=sale_body(title="  宜家书架  ", images=[pic]), headers=seller.headers)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == LISTING_KEYS
    assert body["title"] == "宜家书架"  # stripped
    assert body["status"] == "active" and body["kind"] == "sale" and body["price_cents"] == 9900
    assert body["images"] == [pic]
    assert body["seller"] == {"id": seller.id, "nickname": "小王", "avatar_url": None}
    assert body["favorite_count"] == 0 and body["buyer_id"] is None and body["review_note"] is None
    assert body["created_at"].endswith("+00:00")
    assert client.get(f"{API}/listings/{body['id']}").get_json() == body


def test_donation_price_defaults_to_zero(client, factory):
    seller = factory.user()
    body = sale_body(kind="donation")
    del body["price_cents"], body["description"], body["images"]
    r = client.post(f"{API}/listings", json=body, headers=seller.headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["price_cents"] == 0
    assert r.get_json()["description"] == "" and r.get_json()["images"] == []


def test_create_requires_a_token(client):
    r = client.post(f"{API}/listings", json=sale_body())
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


BAD_BODIES = [
    ("kind missing", {"kind": None}, "kind"),
    ("kind unknown", {"kind": "auction"}, "kind"),
    ("title missing", {"title": None}, "title"),
    ("title empty", {"title": ""}, "title"),
    ("title blank", {"title": "   "}, "title"),
    ("title too long", {"title": "书" * 81}, "title"),
    ("title not a string", {"title": 123}, "title"),
    ("description too long", {"description": "a" * 5001}, "description"),
    ("price as string", {"price_cents": "9900"}, "price_cents"),
    ("price as float", {"price_cents": 99.5}, "price_cents"),
    ("price as bool", {"price_cents": True}, "price_cents"),
    ("price negative", {"price_cents": -1}, "price_cents"),
    ("price absurd", {"price_cents": 10 ** 18}, "price_cents"),
    ("sale price zero", {"price_cents": 0}, "price_cents"),
    ("sale price omitted", {"price_cents": None}, "price_cents"),
    ("donation with price", {"kind": "donation", "price_cents": 100}, "price_cents"),
    ("category empty", {"category": ""}, "category"),
    ("category too long", {"category": "c" * 33}, "category"),
    ("condition unknown", {"condition": "broken"}, "condition"),
    ("city missing", {"city": None}, "city"),
    ("city too long", {"city": "城" * 33}, "city"),
    ("images not a list", {"images": "http://localhost/api/v1/uploads/x.jpg"}, "images"),
    ("image from elsewhere", {"images": ["https://evil.example.com/a.jpg"]}, "images"),
    ("image never uploaded", {"images": [f"http://localhost{API}/uploads/{'0' * 32}.jpg"]}, "images"),
    ("unknown field status", {"status": "sold"}, "status"),
    ("unknown field seller_id", {"seller_id": 1}, "seller_id"),
    ("unknown field favorite_count", {"favorite_count": 99}, "favorite_count"),
    ("unknown field buyer_id", {"buyer_id": 1}, "buyer_id"),
    ("unknown field review_note", {"review_note": "ok"}, "review_note"),
]


@pytest.mark.parametrize("case, change, field", BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_create_rejects_bad_input(client, factory, case, change, field):
    seller = factory.user()
    body = sale_body(**change)
    body = {k: v for k, v in body.items() if not (v is None and k in change)}
    r = client.post(f"{API}/listings", json=body, headers=seller.headers)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]["fields"]
    assert client.get(f"{API}/listings").get_json()["total"] == 0


def test_ten_images_are_rejected_nine_accepted(client, factory):
    seller = factory.user()
    pics = [upload(client.application, seller.id) for _ in range(10)]
    r = client.post(f"{API}/listings", json=sale_body(images=pics), headers=seller.headers)
    assert r.status_code == 400 and "images" in r.get_json()["error"]["details"]["fields"]
    r = client.post(f"{API}/listings", json=sale_body(images=pics[:9]), headers=seller.headers)
    assert r.status_code == 201 and r.get_json()["images"] == pics[:9]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"just a string"'])
def test_create_rejects_non_object_bodies(client, factory, raw):
    seller = factory.user()
    r = client.post(f"{API}/listings", data=raw, content_type="application/json", headers=seller.headers)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] in ("validation_error", "invalid_json")


def test_limits_accept_80_character_cjk_title_and_5000_character_description(client, factory):
    seller = factory.user()
    r = client.post(f"{API}/listings", json=sale_body(title="书" * 80, description="字" * 5000),
                    headers=seller.headers)
    assert r.status_code == 201
    assert len(r.get_json()["title"]) == 80 and len(r.get_json()["description"]) == 5000


VERBATIM = [
    "二手📱手机 🎉 九成新",
    "<script>alert('xss')</script>",
    "'; DROP TABLE listings; --",
    "50% off_价格 \\ / \" 引号",
    "<b>加粗</b> &amp; 𠮷野家",
]


@pytest.mark.parametrize("text", VERBATIM)
def test_text_is_stored_and_returned_verbatim(client, factory, text):
    seller = factory.user()
    created = factory.listing(seller, title=text, description=f"描述:{text}", category=text[:32],
                              city=text[:32])
    got = client.get(f"{API}/listings/{created['id']}").get_json()
    assert got["title"] == text and got["description"] == f"描述:{text}"
    assert got["category"] == text[:32] and got["city"] == text[:32]
    found = client.get(f"{API}/listings", query_string={"q": text[:10]}).get_json()
    assert [item["id"] for item in found["items"]] == [created["id"]]


def test_get_unknown_listing_is_404(client):
    r = client.get(f"{API}/listings/999999")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_invalid_token_on_public_read_is_401(client, factory):
    listing = factory.listing(factory.user())
    r = client.get(f"{API}/listings/{listing['id']}", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


@pytest.mark.parametrize("status", STATUSES)
def test_visibility_of_each_status(client, factory, status):
    seller, other, admin = factory.user(), factory.user(), factory.admin()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status=status)
    url = f"{API}/listings/{listing['id']}"
    expected_for_others = 404 if status in HIDDEN else 200
    assert client.get(url).status_code == expected_for_others
    assert client.get(url, headers=other.headers).status_code == expected_for_others
    assert client.get(url, headers=seller.headers).status_code == 200
    r = client.get(url, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["status"] == status


def test_rejection_reason_is_shown_to_the_seller(client, factory):
    seller = factory.user()
    listing = factory.listing(seller)
    set_listing(client.application, listing["id"], status="rejected", review_note="图片与描述不符")
    body = client.get(f"{API}/listings/{listing['id']}", headers=seller.headers).get_json()
    assert body["status"] == "rejected" and body["review_note"] == "图片与描述不符"
