"""The anti-hoarding limit and one open claim per listing, sequentially and under concurrency."""
from __future__ import annotations


import pytest

from tests.support.concurrency import race
from sqlalchemy.exc import IntegrityError

from core.db import db
from marketplace.models import Claim
from tests.marketplace.claim_helpers import API, act, claim, db_claims, make_scene, new_claim


@pytest.fixture
def scene(factory):
    return make_scene(factory)


@pytest.fixture
def limit(clean_app, monkeypatch):
    """Set MAX_OPEN_CLAIMS for one test (restored afterwards)."""
    def set_limit(value: int) -> None:
        monkeypatch.setitem(clean_app.config, "MAX_OPEN_CLAIMS", value)
    return set_limit


def _donations(scene, n: int) -> list[int]:
    return [scene.factory.donation(scene.seller, title=f"免费送:第{i}件")["id"] for i in range(n)]


def test_open_claims_are_capped_across_listings(scene, limit):
    limit(2)
    first, second, third = _donations(scene, 3)
    assert claim(scene.client, scene.claimant, first).status_code == 201
    assert claim(scene.client, scene.claimant, second).status_code == 201
    r = claim(scene.client, scene.claimant, third)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "claim_limit" and r.get_json()["error"]["details"] == {"limit": 2, "request_id": r.headers["X-Request-ID"]}
    # The cap is per claimant: someone else still can.
    assert claim(scene.client, scene.other, third).status_code == 201


def test_closed_claims_free_a_slot_and_accepted_ones_do_not(scene, limit):
    limit(2)
    first, second, third, fourth = _donations(scene, 4)
    c1 = claim(scene.client, scene.claimant, first).get_json()["id"]
    c2 = claim(scene.client, scene.claimant, second).get_json()["id"]
    assert act(scene.client, scene.seller, c1, "accept").status_code == 200
    assert claim(scene.client, scene.claimant, third).get_json()["error"]["code"] == "claim_limit"
    assert act(scene.client, scene.seller, c2, "decline").status_code == 200
    c3 = claim(scene.client, scene.claimant, third).get_json()["id"]
    assert claim(scene.client, scene.claimant, fourth).get_json()["error"]["code"] == "claim_limit"
    assert act(scene.client, scene.seller, c1, "complete").status_code == 200
    c4 = claim(scene.client, scene.claimant, fourth).get_json()["id"]
    assert act(scene.client, scene.claimant, c4, "cancel").status_code == 200
    assert claim(scene.client, scene.claimant, fourth).status_code == 201
    assert c3 != c4


def test_raising_the_limit_takes_effect_at_once(scene, limit):
    limit(1)
    first, second = _donations(scene, 2)
    assert claim(scene.client, scene.claimant, first).status_code == 201
    assert claim(scene.client, scene.claimant, second).status_code == 409
    limit(2)
    assert claim(scene.client, scene.claimant, second).status_code == 201


def test_default_limit_comes_from_config(scene, clean_app):
    cap = clean_app.config["MAX_OPEN_CLAIMS"]
    ids = _donations(scene, cap + 1)
    results = [claim(scene.client, scene.claimant, lid).status_code for lid in ids]
    assert results == [201] * cap + [409]


def _race(app, n: int, call) -> list:
    """Run `call(client, i)` in n threads released together; each thread has its own test client."""
    def run(i: int):
        r = call(app.test_client(), i)
        return r.status_code, (r.get_json().get("error") or {}).get("code")

    return race(n, run)


def test_concurrent_claims_never_exceed_the_limit(scene, clean_app, limit):
    limit(3)
    ids = _donations(scene, 8)
    results = _race(clean_app, 8, lambda client, i: claim(client, scene.claimant, ids[i], message=f"#{i}"))
    assert sorted(results) == [(201, None)] * 3 + [(409, "claim_limit")] * 5
    open_claims = [c for c in db_claims(clean_app, claimant_id=scene.claimant.id) if c.status == "pending"]
    assert len(open_claims) == 3


def test_concurrent_claims_on_one_listing_make_one_claim(scene, clean_app):
    results = _race(clean_app, 6, lambda client, i: claim(client, scene.claimant, scene.listing_id))
    assert sorted(results) == [(201, None)] + [(409, "claim_exists")] * 5
    assert len(db_claims(clean_app, listing_id=scene.listing_id)) == 1


def test_concurrent_accepts_reserve_the_listing_once(scene, clean_app):
    users = [scene.claimant, scene.other] + [scene.factory.user() for _ in range(2)]
    ids = [new_claim(scene, u)["id"] for u in users]
    results = _race(clean_app, 4, lambda client, i: client.post(f"{API}/claims/{ids[i]}/accept",
                                                                headers=scene.seller.headers))
    assert sorted(results) == [(200, None)] + [(409, "listing_not_available")] * 3
    statuses = sorted(scene.statuses().values())
    assert statuses == ["accepted", "pending", "pending", "pending"]
    winner = next(c for c in db_claims(clean_app, listing_id=scene.listing_id) if c.status == "accepted")
    assert scene.listing()["buyer_id"] == winner.claimant_id


def test_database_allows_one_open_claim_per_user_and_listing(scene, ctx):
    def insert(status: str) -> None:
        with db.transaction() as s:
            s.add(Claim(listing_id=scene.listing_id, claimant_id=scene.claimant.id, status=status))

    for closed in ("declined", "cancelled", "no_show", "declined"):
        insert(closed)
    insert("pending")
    for open_status in ("pending", "accepted"):
        with pytest.raises(IntegrityError):
            insert(open_status)
    insert("completed")
