"""The claim state machine, table-driven: every action from every claim status, and the listing after."""
from __future__ import annotations

import pytest

from marketplace.donations.state import CLAIM_MOVES, CLAIM_STATUSES
from tests.marketplace.claim_helpers import ACTIONS, make_scene, new_claim

#: who takes each action
ACTOR = {"accept": "seller", "decline": "seller", "cancel": "claimant",
         "complete": "seller", "no_show": "seller"}
#: how a fresh pending claim reaches each status, and the listing status it leaves behind
REACH = {
    "pending": ([], "active"),
    "accepted": (["accept"], "reserved"),
    "declined": (["decline"], "active"),
    "cancelled": (["cancel"], "active"),
    "completed": (["accept", "complete"], "given"),
    "no_show": (["accept", "no_show"], "active"),
}
#: (action, claim status before) -> (claim status after, listing status after); anything else is 409
ALLOWED = {
    ("accept", "pending"): ("accepted", "reserved"),
    ("decline", "pending"): ("declined", "active"),
    ("cancel", "pending"): ("cancelled", "active"),
    ("cancel", "accepted"): ("cancelled", "active"),
    ("complete", "accepted"): ("completed", "given"),
    ("no_show", "accepted"): ("no_show", "active"),
}
#: the listing status in which the listing names the claimant as its buyer
HELD_FOR_CLAIMANT = {"reserved", "given"}


@pytest.fixture
def scene(factory):
    return make_scene(factory)


def _drive(scene, claim_id: int, status: str) -> None:
    for step in REACH[status][0]:
        r = scene.act(getattr(scene, ACTOR[step]), claim_id, step)
        assert r.status_code == 200, r.get_json()


def test_the_implementation_table_is_the_documented_one():
    implemented = {(action, source): move.to
                   for action, move in CLAIM_MOVES.items() for source in move.sources}
    assert implemented == {key: after[0] for key, after in ALLOWED.items()}
    assert {action: move.actor for action, move in CLAIM_MOVES.items()} == ACTOR
    assert set(REACH) == set(CLAIM_STATUSES)


@pytest.mark.parametrize("start", CLAIM_STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_claim_transition(scene, action, start):
    claim = new_claim(scene)
    _drive(scene, claim["id"], start)
    listing_before = scene.listing()
    assert listing_before["status"] == REACH[start][1]

    r = scene.act(getattr(scene, ACTOR[action]), claim["id"], action)

    if (action, start) in ALLOWED:
        claim_after, listing_after = ALLOWED[(action, start)]
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["id"] == claim["id"] and body["status"] == claim_after
        assert body["claimant"]["id"] == scene.claimant.id
        assert body["updated_at"] >= claim["updated_at"]
    else:
        claim_after, listing_after = start, REACH[start][1]
        assert r.status_code == 409, r.get_json()
        error = r.get_json()["error"]
        assert error["code"] == "invalid_transition"
        assert error["details"]["from"] == start
    assert scene.statuses() == {claim["id"]: claim_after}
    listing = scene.listing()
    assert listing["status"] == listing_after
    assert listing["buyer_id"] == (scene.claimant.id if listing_after in HELD_FOR_CLAIMANT else None)
