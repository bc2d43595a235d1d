"""Who may do what to a listing: anonymous, its seller, another user, an admin."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from tests.factories import Actor
from tests.marketplace.test_listings import API
from tests.factories import set_listing

ACTORS = ("anonymous", "owner", "other", "admin")


@dataclass
class Case:
    name: str
    status: str  # the listing's status before the call
    call: Callable  # (client, listing_id, headers, cast) -> response
    expected: dict[str, int]


def _get(client, lid, headers, _cast):
    return client.get(f"{API}/listings/{lid}", headers=headers)


def _patch(client, lid, headers, _cast):
    return client.patch(f"{API}/listings/{lid}", json={"title": "改了"}, headers=headers)


def _status(target):
    def call(client, lid, headers, _cast):
        return client.post(f"{API}/listings/{lid}/status", json={"status": target}, headers=headers)
    return call


def _favorite(method):
    def call(client, lid, headers, _cast):
        return client.open(f"{API}/listings/{lid}/favorite", method=method, headers=headers)
    return call


def _review(client, lid, headers, _cast):
    return client.post(f"{API}/listings/{lid}/reviews", json={"rating": 5}, headers=headers)


def _reviews_of_seller(client, _lid, headers, cast):
    return client.get(f"{API}/users/{cast['owner'].id}/reviews", headers=headers)


def _by_actor(anonymous, owner, other, admin):
    return dict(zip(ACTORS, (anonymous, owner, other, admin)))


CASES = [
    Case("get active", "active", _get, _by_actor(200, 200, 200, 200)),
    Case("get withdrawn", "withdrawn", _get, _by_actor(200, 200, 200, 200)),
    Case("get sold", "sold", _get, _by_actor(200, 200, 200, 200)),
    Case("get removed", "removed", _get, _by_actor(404, 200, 404, 200)),
    Case("get pending_review", "pending_review", _get, _by_actor(404, 200, 404, 200)),
    Case("get rejected", "rejected", _get, _by_actor(404, 200, 404, 200)),
    Case("patch active", "active", _patch, _by_actor(401, 200, 403, 403)),
    Case("patch rejected", "rejected", _patch, _by_actor(401, 200, 404, 403)),
    Case("patch removed", "removed", _patch, _by_actor(401, 409, 404, 403)),
    Case("reserve active", "active", _status("reserved"), _by_actor(401, 200, 403, 403)),
    Case("withdraw pending_review", "pending_review", _status("withdrawn"), _by_actor(401, 200, 404, 403)),
    Case("reactivate removed", "removed", _status("active"), _by_actor(401, 409, 404, 403)),
    Case("favorite active", "active", _favorite("PUT"), _by_actor(401, 200, 200, 200)),
    Case("favorite removed", "removed", _favorite("PUT"), _by_actor(401, 200, 404, 200)),
    Case("unfavorite sold", "sold", _favorite("DELETE"), _by_actor(401, 200, 200, 200)),
    Case("unfavorite rejected", "rejected", _favorite("DELETE"), _by_actor(401, 200, 404, 200)),
    Case("review sold", "sold", _review, _by_actor(401, 201, 403, 403)),
    Case("review active", "active", _review, _by_actor(401, 409, 409, 409)),
    Case("list reviews", "sold", _reviews_of_seller, _by_actor(401, 200, 200, 200)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_authorization_matrix(client, factory, case):
    cast: dict[str, Actor | None] = {"anonymous": None, "owner": factory.user(), "other": factory.user(),
                                     "admin": factory.admin()}
    buyer = factory.user()
    outcomes = {}
    for name in ACTORS:
        listing = factory.listing(cast["owner"])
        set_listing(client.application, listing["id"], status=case.status,
                    buyer_id=buyer.id if case.status in ("reserved", "sold", "given") else None)
        actor = cast[name]
        r = case.call(client, listing["id"], actor.headers if actor else {}, cast)
        outcomes[name] = r.status_code
        if r.status_code >= 400:
            assert set(r.get_json()) == {"error"} and r.get_json()["error"]["code"]
    assert outcomes == case.expected


@pytest.mark.parametrize("method, url, body", [
    ("GET", "/listings/999999", None),
    ("PATCH", "/listings/999999", {"title": "x"}),
    ("POST", "/listings/999999/status", {"status": "reserved"}),
    ("PUT", "/listings/999999/favorite", None),
    ("DELETE", "/listings/999999/favorite", None),
    ("POST", "/listings/999999/reviews", {"rating": 5}),
    ("GET", "/users/999999/reviews", None),
])
def test_unknown_ids_are_404(client, factory, method, url, body):
    user = factory.user()
    r = client.open(f"{API}{url}", method=method, json=body, headers=user.headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
