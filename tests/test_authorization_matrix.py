"""Authorization matrix (OWASP API1/API3/API5): every endpoint that names an object, called by
anonymous, its owner or member, another user, a banned user and an admin; each cell is the documented status.

Every response is also scanned for what must never leak: password hashes, anyone's tokens, ban notes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import update

from core.db import db, utcnow
from marketplace.models import User
from tests.chat.helpers import API, ChatHelper
from tests.factories import Actor, Factory
from tests.marketplace.test_uploads import PNG

ACTORS = ("anonymous", "owner", "other", "banned", "admin")
BAN_NOTE = "内部备注:刷单账号"


@dataclass
class Scene:
    """One of everything, owned by a seller or a buyer; `banned` had a live token when the ban fell."""

    actors: dict[str, Actor | None]
    seller: Actor
    buyer: Actor
    ids: dict[str, Any]

    def secrets(self) -> list[str]:
        return [a.token for a in (*self.actors.values(), self.seller, self.buyer) if a] + [BAN_NOTE, "$argon2"]


def build_scene(client) -> Scene:
    factory = Factory(client)
    chat = ChatHelper(client, factory)
    seller, buyer = factory.user(nickname="卖家"), factory.user(nickname="买家")
    other, banned, admin = factory.user(), factory.user(), factory.admin()
    sale = factory.listing(seller)["id"]
    donation = factory.donation(seller)["id"]
    claim = client.post(f"{API}/listings/{donation}/claims", json={}, headers=buyer.headers).get_json()["id"]
    group = chat.inquiry(buyer, sale)["id"]
    message = chat.send(buyer, group, "还在吗?")["id"]
    offer = client.post(f"{API}/groups/{group}/offers", json={"price_cents": 200000},
                        headers=buyer.headers).get_json()["id"]
    room = chat.room(admin)
    upload = client.post(f"{API}/uploads", data={"file": (io.BytesIO(PNG), "a.png")},
                         headers=seller.headers).get_json()["url"].rsplit("/", 1)[-1]
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.id == banned.id).values(banned_at=utcnow(), ban_reason=BAN_NOTE))
    ids = {"sale": sale, "donation": donation, "claim": claim, "group": group, "message": message,
           "offer": offer, "room": room, "upload": upload}
    actors = {"anonymous": None, "seller": seller, "buyer": buyer, "other": other, "banned": banned, "admin": admin}
    return Scene(actors=actors, seller=seller, buyer=buyer, ids=ids)


@dataclass
class Row:
    name: str
    method: str
    path: str  # formatted with the scene's ids
    owner: str  # who "owner" is for this row: seller, buyer or admin
    expected: tuple[int, int, int, int, int]  # anonymous, owner, other, banned, admin
    body: dict | None = None
    build: Callable[[Scene], dict] | None = None


ROWS = [
    # listings
    Row("get listing", "GET", "/listings/{sale}", "seller", (200, 200, 200, 401, 200)),
    Row("edit listing", "PATCH", "/listings/{sale}", "seller", (401, 200, 403, 401, 403), {"title": "改了"}),
    Row("listing status", "POST", "/listings/{sale}/status", "seller", (401, 200, 403, 401, 403),
        {"status": "reserved"}),
    Row("favorite", "PUT", "/listings/{sale}/favorite", "seller", (401, 200, 200, 401, 200)),
    Row("unfavorite", "DELETE", "/listings/{sale}/favorite", "seller", (401, 200, 200, 401, 200)),
    Row("inquire", "POST", "/listings/{sale}/inquiries", "buyer", (401, 200, 201, 401, 201)),
    Row("claim", "POST", "/listings/{donation}/claims", "buyer", (401, 409, 201, 401, 201), {}),
    # others see only their own claims on a listing: an empty page, not the seller's queue
    Row("list claims", "GET", "/listings/{donation}/claims", "seller", (401, 200, 200, 401, 200)),
    Row("review unsold", "POST", "/listings/{sale}/reviews", "buyer", (401, 409, 409, 401, 409), {"rating": 5}),
    # claims
    Row("accept claim", "POST", "/claims/{claim}/accept", "seller", (401, 200, 404, 401, 404)),
    Row("decline claim", "POST", "/claims/{claim}/decline", "seller", (401, 200, 404, 401, 404)),
    Row("cancel claim", "POST", "/claims/{claim}/cancel", "buyer", (401, 200, 404, 401, 404)),
    Row("complete claim", "POST", "/claims/{claim}/complete", "seller", (401, 409, 404, 401, 404)),
    Row("no-show claim", "POST", "/claims/{claim}/no_show", "seller", (401, 409, 404, 401, 404)),
    # groups and messages
    Row("get group", "GET", "/groups/{group}", "buyer", (401, 200, 404, 401, 404)),
    Row("history", "GET", "/groups/{group}/messages", "buyer", (401, 200, 404, 401, 404)),
    Row("send", "POST", "/groups/{group}/messages", "buyer", (401, 201, 404, 401, 404),
        {"client_id": "m-1", "type": "txt", "body": {"text": "你好"}}),
    Row("read marker", "POST", "/groups/{group}/read", "buyer", (401, 204, 404, 401, 404), {"seq": 1}),
    Row("recall", "POST", "/groups/{group}/messages/{message}/recall", "buyer", (401, 200, 404, 401, 200)),
    Row("make offer", "POST", "/groups/{group}/offers", "buyer", (401, 409, 404, 401, 404), {"price_cents": 100}),
    Row("list offers", "GET", "/groups/{group}/offers", "buyer", (401, 200, 404, 401, 404)),
    Row("hide conversation", "DELETE", "/conversations/{group}", "buyer", (401, 204, 404, 401, 404)),
    # offers
    Row("accept offer", "POST", "/offers/{offer}/accept", "seller", (401, 200, 404, 401, 404)),
    Row("decline offer", "POST", "/offers/{offer}/decline", "seller", (401, 200, 404, 401, 404)),
    Row("withdraw offer", "POST", "/offers/{offer}/withdraw", "buyer", (401, 200, 404, 401, 404)),
    # rooms, users, uploads
    Row("join room", "POST", "/rooms/{room}/join", "admin", (401, 200, 200, 401, 200)),
    Row("leave room", "POST", "/rooms/{room}/leave", "admin", (401, 409, 204, 401, 409)),  # its owner stays
    Row("profile", "GET", "/users/{seller_id}", "seller", (401, 200, 200, 401, 200)),
    Row("direct chat", "POST", "/users/{seller_id}/direct", "buyer", (401, 201, 201, 401, 201)),
    Row("block", "PUT", "/me/blocks/{seller_id}", "buyer", (401, 204, 204, 401, 204)),
    Row("reviews of user", "GET", "/users/{seller_id}/reviews", "seller", (401, 200, 200, 401, 200)),
    Row("get upload", "GET", "/uploads/{upload}", "seller", (200, 200, 200, 200, 200)),
]


def _call(client, scene: Scene, row: Row, who: str):
    actor = scene.actors[row.owner if who == "owner" else who]
    path = row.path.format(**scene.ids, seller_id=scene.seller.id)
    body = row.build(scene) if row.build else row.body
    return client.open(f"{API}{path}", method=row.method, json=body,
                       headers=actor.headers if actor else {})


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_actor_gets_the_documented_status(client, row, who):
    scene = build_scene(client)
    r = _call(client, scene, row, who)
    assert r.status_code == row.expected[ACTORS.index(who)], r.get_data(as_text=True)
    if r.status_code >= 400:
        assert set(r.get_json()) == {"error"} and r.get_json()["error"]["code"]
    text = r.get_data(as_text=True) if r.mimetype == "application/json" else ""
    leaked = [secret for secret in scene.secrets() if secret in text]
    assert not leaked, f"{row.name} as {who} leaked {leaked}"
