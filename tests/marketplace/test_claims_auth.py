"""Who may call each claim endpoint: anonymous, seller, claimant, another user, an admin."""
from __future__ import annotations

import pytest

from tests.marketplace.claim_helpers import API, make_scene, new_claim

#: the party each action belongs to, and a claim status it is allowed from
ACTION_SETUP = {
    "accept": ("seller", []),
    "decline": ("seller", []),
    "cancel": ("claimant", []),
    "complete": ("seller", ["accept"]),
    "no_show": ("seller", ["accept"]),
}
#: who calls -> expected status when the action belongs to the seller / to the claimant
EXPECTED = {
    "anonymous": {"seller": (401, "unauthorized"), "claimant": (401, "unauthorized")},
    "seller": {"seller": (200, None), "claimant": (403, "forbidden")},
    "claimant": {"seller": (403, "forbidden"), "claimant": (200, None)},
    "other": {"seller": (404, "not_found"), "claimant": (404, "not_found")},
    "admin": {"seller": (404, "not_found"), "claimant": (404, "not_found")},
}


@pytest.fixture
def scene(factory):
    return make_scene(factory)


@pytest.mark.parametrize("caller", list(EXPECTED))
@pytest.mark.parametrize("action", list(ACTION_SETUP))
def test_claim_action_authorization(scene, action, caller):
    owner, steps = ACTION_SETUP[action]
    claim = new_claim(scene)
    for step in steps:
        assert scene.act(scene.seller, claim["id"], step).status_code == 200
    before = scene.statuses(), scene.listing()["status"]

    r = scene.act(None if caller == "anonymous" else getattr(scene, caller), claim["id"], action)

    status, code = EXPECTED[caller][owner]
    assert r.status_code == status, r.get_json()
    if code is None:
        assert r.get_json()["status"] != before[0][claim["id"]]
    else:
        assert r.get_json()["error"]["code"] == code
        assert (scene.statuses(), scene.listing()["status"]) == before


@pytest.mark.parametrize("action", list(ACTION_SETUP))
def test_unknown_claim_is_404(scene, action):
    r = scene.act(scene.seller, 987654, action)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, path", [
    ("post", "/listings/{listing}/claims"),
    ("get", "/listings/{listing}/claims"),
    ("get", "/me/claims"),
])
def test_claim_collections_need_a_token(scene, method, path):
    call, url = getattr(scene.client, method), API + path.format(listing=scene.listing_id)
    r = call(url, json={} if method == "post" else None)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = call(url, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_listing_claims_are_seen_by_seller_all_and_by_others_their_own(scene):
    mine = new_claim(scene)
    theirs = new_claim(scene, scene.other)
    admins = new_claim(scene, scene.admin)
    seen = {name: [c["id"] for c in scene.claims(getattr(scene, name))["items"]]
            for name in ("seller", "claimant", "other", "admin")}
    assert seen == {"seller": [mine["id"], theirs["id"], admins["id"]], "claimant": [mine["id"]],
                    "other": [theirs["id"]], "admin": [admins["id"]]}
    stranger = scene.factory.user()
    assert scene.claims(stranger) == {"items": [], "page": 1, "page_size": 20, "total": 0}


def test_a_revoked_token_cannot_act_on_a_claim(scene):
    claim = new_claim(scene)
    assert scene.client.delete(f"{API}/token", headers=scene.seller.headers).status_code == 204
    assert scene.act(scene.seller, claim["id"], "accept").status_code == 401
    seller = scene.factory.login(scene.seller.username)
    assert scene.act(seller, claim["id"], "accept").status_code == 200
