"""GET /listings/{id}/claims and GET /me/claims: order, filters, pages, visibility."""
from __future__ import annotations

import pytest

from tests.marketplace.claim_helpers import API, force_listing_status, make_scene, new_claim


@pytest.fixture
def scene(factory):
    return make_scene(factory)


def test_listing_claims_are_oldest_first_and_paged(scene):
    users = [scene.claimant, scene.other] + [scene.factory.user() for _ in range(3)]
    ids = [new_claim(scene, u, message=f"第{i}个")["id"] for i, u in enumerate(users)]
    page1 = scene.claims(page=1, page_size=2)
    assert [c["id"] for c in page1["items"]] == ids[:2]
    assert (page1["page"], page1["page_size"], page1["total"]) == (1, 2, 5)
    assert [c["id"] for c in scene.claims(page=3, page_size=2)["items"]] == ids[4:]
    assert [c["id"] for c in scene.claims(pagenum=2, pagesize=2)["items"]] == ids[2:4]
    assert scene.claims(page=4, page_size=2)["items"] == []


def test_listing_claims_filter_by_status(scene):
    first, second, third = (new_claim(scene, u)["id"] for u in (scene.claimant, scene.other, scene.admin))
    scene.act(scene.seller, first, "decline")
    scene.act(scene.seller, third, "accept")
    assert [c["id"] for c in scene.claims(status="pending")["items"]] == [second]
    assert [c["id"] for c in scene.claims(status="accepted")["items"]] == [third]
    assert scene.claims(scene.claimant, status="pending")["total"] == 0
    assert [c["id"] for c in scene.claims(scene.claimant, status="declined")["items"]] == [first]


@pytest.mark.parametrize("query", [{"status": "open"}, {"status": ""}, {"page": 0}, {"page_size": 101},
                                   {"page": "one"}, {"page_size": "all"}])
def test_bad_list_queries_are_400(scene, query):
    for path in (f"/listings/{scene.listing_id}/claims", "/me/claims"):
        r = scene.client.get(API + path, query_string=query, headers=scene.seller.headers)
        assert r.status_code == 400, (path, r.get_json())
        assert r.get_json()["error"]["code"] == "validation_error"


def test_claims_of_a_missing_listing_are_404(scene):
    r = scene.client.get(f"{API}/listings/{scene.listing_id + 99}/claims", headers=scene.claimant.headers)
    assert r.status_code == 404


def test_claims_of_a_hidden_listing_are_404_except_to_its_seller(scene, clean_app):
    claim = new_claim(scene)
    force_listing_status(clean_app, scene.listing_id, "pending_review")
    r = scene.client.get(f"{API}/listings/{scene.listing_id}/claims", headers=scene.claimant.headers)
    assert r.status_code == 404
    assert [c["id"] for c in scene.claims()["items"]] == [claim["id"]]


def test_my_claims_are_newest_first_with_a_listing_summary(scene):
    older = new_claim(scene)
    second_listing = scene.factory.donation(scene.factory.user(nickname="李阿姨"), title="免费送:儿童自行车", city="杭州")
    newer = new_claim(scene, listing_id=second_listing["id"], message="🚲 谢谢")
    new_claim(scene, scene.other)
    r = scene.client.get(f"{API}/me/claims", headers=scene.claimant.headers)
    assert r.status_code == 200
    body = r.get_json()
    assert [c["id"] for c in body["items"]] == [newer["id"], older["id"]] and body["total"] == 2
    top = body["items"][0]
    assert top["message"] == "🚲 谢谢" and top["claimant"]["id"] == scene.claimant.id
    assert top["listing"] == {"id": second_listing["id"], "title": "免费送:儿童自行车", "status": "active",
                              "city": "杭州", "cover_url": None,
                              "seller": {"id": second_listing["seller"]["id"], "nickname": "李阿姨",
                                         "avatar_url": None}}


def test_my_claims_filter_by_status_and_page(scene):
    first = new_claim(scene)
    listing2 = scene.factory.donation(scene.seller)
    second = new_claim(scene, listing_id=listing2["id"])
    scene.act(scene.seller, first["id"], "accept")

    def mine(**query):
        r = scene.client.get(f"{API}/me/claims", query_string=query, headers=scene.claimant.headers)
        assert r.status_code == 200
        return r.get_json()

    assert [c["id"] for c in mine(status="accepted")["items"]] == [first["id"]]
    assert mine(status="accepted")["items"][0]["listing"]["status"] == "reserved"
    assert [c["id"] for c in mine(status="pending")["items"]] == [second["id"]]
    assert mine(status="completed")["total"] == 0
    paged = mine(page=2, page_size=1)
    assert [c["id"] for c in paged["items"]] == [first["id"]] and paged["total"] == 2
    r = scene.client.get(f"{API}/me/claims", headers=scene.seller.headers)
    assert r.get_json()["total"] == 0
