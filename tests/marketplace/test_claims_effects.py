"""What a claim move does to the listing and to the other claims on it, and the signals it sends."""
from __future__ import annotations

import pytest

from marketplace.signals import listing_status_changed
from tests.marketplace.claim_helpers import make_scene, new_claim


@pytest.fixture
def scene(factory):
    return make_scene(factory)


@pytest.fixture
def three_claims(scene):
    """Pending claims by the claimant, another user and a third user, oldest first."""
    third = scene.factory.user()
    return [new_claim(scene, who)["id"] for who in (scene.claimant, scene.other, third)]


@pytest.fixture
def status_signals(clean_app):
    seen: list[tuple] = []

    def receiver(sender, **kw):
        seen.append((kw["listing_id"], kw["old_status"], kw["new_status"], kw["actor_id"]))

    listing_status_changed.connect(receiver, sender=clean_app)
    yield seen
    listing_status_changed.disconnect(receiver, sender=clean_app)


def test_accept_reserves_for_the_claimant_and_keeps_other_claims_pending(scene, three_claims):
    first, second, third = three_claims
    assert scene.act(scene.seller, second, "accept").status_code == 200
    assert scene.statuses() == {first: "pending", second: "accepted", third: "pending"}
    listing = scene.listing()
    assert (listing["status"], listing["buyer_id"]) == ("reserved", scene.other.id)


def test_a_second_accept_while_reserved_is_409(scene, three_claims):
    first, second, _third = three_claims
    assert scene.act(scene.seller, first, "accept").status_code == 200
    r = scene.act(scene.seller, second, "accept")
    error = r.get_json()["error"]
    assert r.status_code == 409
    assert (error["code"], error["details"]) == ("listing_not_available",
                                                 {"status": "reserved", "request_id": r.headers["X-Request-ID"]})
    assert scene.statuses()[second] == "pending"


def test_complete_gives_the_listing_and_declines_only_pending_claims(scene, three_claims):
    first, second, third = three_claims
    assert scene.act(scene.claimant, first, "cancel").status_code == 200
    assert scene.act(scene.seller, second, "accept").status_code == 200
    assert scene.act(scene.seller, second, "complete").get_json()["status"] == "completed"
    assert scene.statuses() == {first: "cancelled", second: "completed", third: "declined"}
    listing = scene.listing()
    assert (listing["status"], listing["buyer_id"]) == ("given", scene.other.id)


def test_no_show_reopens_the_listing_for_the_next_pending_claim(scene, three_claims):
    first, second, third = three_claims
    assert scene.act(scene.seller, first, "accept").status_code == 200
    assert scene.act(scene.seller, first, "no_show").get_json()["status"] == "no_show"
    listing = scene.listing()
    assert (listing["status"], listing["buyer_id"]) == ("active", None)
    assert scene.act(scene.seller, second, "accept").status_code == 200
    assert scene.statuses() == {first: "no_show", second: "accepted", third: "pending"}
    assert scene.listing()["buyer_id"] == scene.other.id


def test_cancelling_an_accepted_claim_reopens_the_listing(scene, three_claims):
    first, second, third = three_claims
    assert scene.act(scene.seller, first, "accept").status_code == 200
    assert scene.act(scene.claimant, first, "cancel").get_json()["status"] == "cancelled"
    listing = scene.listing()
    assert (listing["status"], listing["buyer_id"]) == ("active", None)
    assert scene.statuses() == {first: "cancelled", second: "pending", third: "pending"}


def test_cancelling_a_pending_claim_leaves_a_listing_reserved_for_someone_else(scene, three_claims):
    first, second, _third = three_claims
    assert scene.act(scene.seller, second, "accept").status_code == 200
    assert scene.act(scene.claimant, first, "cancel").status_code == 200
    listing = scene.listing()
    assert (listing["status"], listing["buyer_id"]) == ("reserved", scene.other.id)


def test_decline_does_not_touch_the_listing_or_other_claims(scene, three_claims):
    first, second, third = three_claims
    assert scene.act(scene.seller, first, "accept").status_code == 200
    assert scene.act(scene.seller, third, "decline").get_json()["status"] == "declined"
    assert scene.statuses() == {first: "accepted", second: "pending", third: "declined"}
    assert scene.listing()["status"] == "reserved"


def test_listing_moves_are_announced_after_commit_and_claim_only_moves_are_not(scene, three_claims,
                                                                               status_signals):
    first, second, third = three_claims
    lid, giver = scene.listing_id, scene.seller.id
    scene.act(scene.seller, third, "decline")
    assert status_signals == []
    scene.act(scene.seller, first, "accept")
    scene.act(scene.seller, first, "no_show")
    scene.act(scene.seller, second, "accept")
    scene.act(scene.other, second, "cancel")
    scene.act(scene.seller, first, "accept")  # 409: a no-show claim stays closed
    assert scene.act(scene.seller, second, "complete").status_code == 409
    last = new_claim(scene, scene.factory.user())["id"]
    scene.act(scene.seller, last, "accept")
    scene.act(scene.seller, last, "complete")
    assert status_signals == [(lid, "active", "reserved", giver), (lid, "reserved", "active", giver),
                              (lid, "active", "reserved", giver), (lid, "reserved", "active", scene.other.id),
                              (lid, "active", "reserved", giver), (lid, "reserved", "given", giver)]
