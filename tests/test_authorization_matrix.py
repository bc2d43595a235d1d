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
from tests.factories import Actor, Factory, set_listing
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

    def secrets(self, *, admin_view: bool) -> list[str]:
        """What the response must not contain; ban notes are for admins' eyes only."""
        tokens = [a.token for a in self.actors.values() if a]
        return tokens + ["$argon2"] + ([] if admin_view else [BAN_NOTE])


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
    client.post(f"{API}/rooms/{room}/join", headers=other.headers)
    pending, removed = factory.listing(seller)["id"], factory.listing(seller)["id"]
    set_listing(client.application, pending, status="pending_review")
    set_listing(client.application, removed, status="removed")
    report = client.post(f"{API}/reports", json={"target_type": "listing", "target_id": sale, "reason": "疑似假货"},
                         headers=buyer.headers).get_json()["id"]
    upload = client.post(f"{API}/uploads", data={"file": (io.BytesIO(PNG), "a.png")},
                         headers=seller.headers).get_json()["url"].rsplit("/", 1)[-1]
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.id == banned.id).values(banned_at=utcnow(), ban_reason=BAN_NOTE))
    ids = {"sale": sale, "donation": donation, "claim": claim, "group": group, "message": message,
           "offer": offer, "room": room, "upload": upload, "pending": pending, "removed": removed,
           "report": report, "other_id": other.id, "banned_id": banned.id}
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
    # reports: any signed-in user; one open report per reporter and target
    Row("report listing", "POST", "/reports", "buyer", (401, 409, 201, 401, 201),
        build=lambda scene: {"target_type": "listing", "target_id": scene.ids["sale"], "reason": "疑似假货"}),
    # admin routes: admins only, whoever owns the target
    *[Row(f"admin {name}", method, path, "seller", (401, 403, 403, 401, status), body)
      for name, method, path, status, body in [
          ("users", "GET", "/admin/users", 200, None),
          ("ban", "POST", "/admin/users/{seller_id}/ban", 200, {"reason": "刷单"}),
          ("unban", "POST", "/admin/users/{banned_id}/unban", 200, None),
          ("listings", "GET", "/admin/listings", 200, None),
          ("approve", "POST", "/admin/listings/{pending}/approve", 200, None),
          ("reject", "POST", "/admin/listings/{pending}/reject", 200, {"reason": "图片不清楚"}),
          ("takedown", "POST", "/admin/listings/{sale}/takedown", 200, {"reason": "违禁品"}),
          ("restore", "POST", "/admin/listings/{removed}/restore", 200, None),
          ("reports", "GET", "/admin/reports", 200, None),
          ("resolve", "POST", "/admin/reports/{report}/resolve", 200, {"action": "dismiss", "note": "正常商品"}),
          ("groups", "GET", "/admin/groups", 200, None),
          ("group", "GET", "/admin/groups/{group}", 200, None),
          ("new group", "POST", "/admin/groups", 201, None),
          ("add member", "POST", "/admin/groups/{room}/members", 200, None),  # already in: role kept
          ("remove member", "DELETE", "/admin/groups/{room}/members/{other_id}", 204, None),
          ("new room", "POST", "/admin/rooms", 201, {"name": "闲置交流"}),
          ("post message", "POST", "/admin/groups/{group}/messages", 201,
           {"type": "system", "body": {"text": "请勿线下交易"}}),
          ("read history", "GET", "/admin/groups/{group}/messages", 200, None),
          ("keywords", "GET", "/admin/keywords", 200, None),
          ("set keywords", "PUT", "/admin/keywords", 200,
           {"rules": [{"pattern": "代开发票", "kind": "word", "action": "block"}]}),
          ("audit", "GET", "/admin/audit", 200, None),
      ]],
]
ADMIN_BODIES: dict[str, Callable[[Scene], dict]] = {
    "admin new group": lambda scene: {"kind": "direct", "user_ids": [scene.seller.id, scene.ids["other_id"]]},
    "admin add member": lambda scene: {"user_id": scene.ids["other_id"]},
}
for row in ROWS:
    row.build = row.build or ADMIN_BODIES.get(row.name)


def _call(client, scene: Scene, row: Row, who: str):
    actor = scene.actors[row.owner if who == "owner" else who]
    path = row.path.format(**scene.ids, seller_id=scene.seller.id)
    body = row.build(scene) if row.build else row.body
    return client.open(f"{API}{path}", method=row.method, json=body,
                       headers=actor.headers if actor else {})


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_each_actor_gets_the_documented_status(client, row):
    # One scene per row: refusals change nothing, so the callers who may succeed go last (owner, then admin).
    scene = build_scene(client)
    outcomes = {}
    for who in ("anonymous", "other", "banned", "owner", "admin"):
        r = _call(client, scene, row, who)
        outcomes[who] = r.status_code
        if r.status_code >= 400:
            assert set(r.get_json()) == {"error"} and r.get_json()["error"]["code"], r.get_data(as_text=True)
        text = r.get_data(as_text=True) if r.mimetype == "application/json" else ""
        leaked = [secret for secret in scene.secrets(admin_view=who == "admin" and row.path.startswith("/admin"))
                  if secret in text]
        assert not leaked, f"{row.name} as {who} leaked {leaked}"
    assert outcomes == dict(zip(ACTORS, row.expected))
