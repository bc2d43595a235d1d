"""POST /listings/{id}/claims: who may claim what, and the claim that comes back."""
from __future__ import annotations

import pytest

from tests.marketplace.claim_helpers import API, force_listing_status, make_scene, new_claim


@pytest.fixture
def scene(factory):
    return make_scene(factory)


def _error(r) -> tuple[int, str]:
    return r.status_code, r.get_json()["error"]["code"]


def test_claim_is_created_pending_with_claimant_summary(scene):
    r = scene.claim(message="请问周末可以自取吗?")
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"id", "listing_id", "claimant", "message", "status", "created_at", "updated_at"}
    assert body["listing_id"] == scene.listing_id and body["status"] == "pending"
    assert body["claimant"] == {"id": scene.claimant.id, "nickname": "小红", "avatar_url": None}
    assert body["message"] == "请问周末可以自取吗?"
    assert body["created_at"].endswith("+00:00") and body["updated_at"].endswith("+00:00")


def test_claim_without_body_gets_an_empty_message(scene):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/claims", headers=scene.claimant.headers)
    assert r.status_code == 201 and r.get_json()["message"] == ""


@pytest.mark.parametrize("message", [
    "谢谢!我家孩子正好需要书架 📚🙏",
    "'; DROP TABLE claims; --",
    "<script>alert('x')</script> & <b>bold</b>",
    "  leading and trailing spaces  \n第二行",
    "字" * 500,
])
def test_message_is_stored_verbatim(scene, message):
    claim = new_claim(scene, message=message)
    assert claim["message"] == message
    assert scene.claims()["items"][0]["message"] == message


@pytest.mark.parametrize("body, field", [
    ({"message": "x" * 501}, "message"),
    ({"message": "字" * 501}, "message"),
    ({"message": 123}, "message"),
    ({"message": None}, "message"),
    ({"message": ["hi"]}, "message"),
    ({"message": "hi", "status": "accepted"}, "status"),
    ({"claimant_id": 1}, "claimant_id"),
    ({"listing_id": 2}, "listing_id"),
])
def test_invalid_claim_bodies_are_rejected_naming_the_field(scene, body, field):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/claims", json=body,
                          headers=scene.claimant.headers)
    assert _error(r) == (400, "validation_error")
    assert field in r.get_json()["error"]["details"]["fields"]
    assert scene.claims()["total"] == 0


def test_malformed_json_is_rejected(scene):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/claims", data='{"message": "hi"',
                          content_type="application/json", headers=scene.claimant.headers)
    assert _error(r) == (400, "invalid_json")
    assert scene.claims()["total"] == 0


def test_a_json_array_body_is_rejected(scene):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/claims", json=["hi"],
                          headers=scene.claimant.headers)
    assert _error(r) == (400, "validation_error")


def test_anonymous_claim_is_401(scene):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/claims", json={})
    assert _error(r) == (401, "unauthorized")


def test_missing_listing_is_404(scene):
    assert _error(scene.claim(listing_id=scene.listing_id + 1000)) == (404, "not_found")


@pytest.mark.parametrize("status", ["removed", "pending_review", "rejected"])
def test_hidden_listing_is_404_to_claimants(scene, clean_app, status):
    force_listing_status(clean_app, scene.listing_id, status)
    assert _error(scene.claim()) == (404, "not_found")
    # Its seller still sees it, so for them it is the own-listing rule that answers.
    assert _error(scene.claim(scene.seller)) == (403, "own_listing")


def test_admin_sees_a_removed_listing_but_cannot_claim_it(scene, clean_app):
    force_listing_status(clean_app, scene.listing_id, "removed")
    assert _error(scene.claim(scene.admin)) == (409, "listing_not_available")


def test_admin_claims_like_any_user(scene):
    assert scene.claim(scene.admin).status_code == 201


def test_sale_listing_is_not_claimable(scene):
    sale = scene.factory.listing(scene.seller)
    assert _error(scene.claim(listing_id=sale["id"])) == (409, "not_a_donation")


def test_seller_cannot_claim_own_donation(scene):
    assert _error(scene.claim(scene.seller)) == (403, "own_listing")


@pytest.mark.parametrize("status", ["reserved", "withdrawn"])
def test_listing_that_is_not_active_takes_no_claims(scene, status):
    r = scene.client.post(f"{API}/listings/{scene.listing_id}/status", json={"status": status},
                          headers=scene.seller.headers)
    assert r.status_code == 200, r.get_json()
    r = scene.claim()
    assert _error(r) == (409, "listing_not_available")
    assert r.get_json()["error"]["details"] == {"status": status, "request_id": r.headers["X-Request-ID"]}


def test_given_listing_takes_no_claims(scene):
    claim = new_claim(scene, scene.other)
    assert scene.act(scene.seller, claim["id"], "accept").status_code == 200
    assert scene.act(scene.seller, claim["id"], "complete").status_code == 200
    assert _error(scene.claim()) == (409, "listing_not_available")


@pytest.mark.parametrize("blocker", ["seller", "claimant"])
def test_blocked_pair_cannot_claim_either_way(scene, blocker):
    first, second = (scene.seller, scene.claimant) if blocker == "seller" else (scene.claimant, scene.seller)
    assert scene.client.put(f"{API}/me/blocks/{second.id}", headers=first.headers).status_code == 204
    assert _error(scene.claim()) == (403, "blocked")
    assert scene.client.delete(f"{API}/me/blocks/{second.id}", headers=first.headers).status_code == 204
    assert scene.claim().status_code == 201


def test_one_open_claim_per_user_per_listing(scene):
    new_claim(scene)
    assert _error(scene.claim(message="again")) == (409, "claim_exists")
    assert new_claim(scene, scene.other)["status"] == "pending"
    assert scene.claims()["total"] == 2


@pytest.mark.parametrize("actor, action", [("claimant", "cancel"), ("seller", "decline")])
def test_a_new_claim_is_allowed_once_the_old_one_is_closed(scene, actor, action):
    first = new_claim(scene)
    assert scene.act(getattr(scene, actor), first["id"], action).status_code == 200
    second = new_claim(scene, message="再试一次")
    assert second["id"] != first["id"]
    assert scene.statuses() == {first["id"]: {"cancel": "cancelled", "decline": "declined"}[action],
                                second["id"]: "pending"}


def test_a_new_claim_is_allowed_after_a_no_show(scene):
    first = new_claim(scene)
    assert scene.act(scene.seller, first["id"], "accept").status_code == 200
    assert scene.act(scene.seller, first["id"], "no_show").status_code == 200
    assert new_claim(scene)["status"] == "pending"
