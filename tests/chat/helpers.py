"""Chat test helpers: listings, uploads and status changes straight in the database, chat calls via the API."""
from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from core.db import db
from marketplace.models import Listing, User
from marketplace.signals import emit_listing_status_changed
from tests.factories import Actor, Factory, upload

API = "/api/v1"
_client_ids = itertools.count(1)


class ChatHelper:
    """Builds what chat tests need; listings go straight into the database so chat tests
    depend only on the models, not on the listing routes."""

    def __init__(self, client: FlaskClient, factory: Factory) -> None:
        self.client = client
        self.app = client.application
        self.factory = factory

    def listing(self, seller: Actor, *, status: str = "active", kind: str = "sale",
                images: list[str] | None = None, title: str = "九成新 iPhone 13 128G") -> int:
        with self.app.app_context(), db.transaction() as s:
            listing = Listing(seller_id=seller.id, kind=kind, title=title, description="自用一年",
                              price_cents=250000 if kind == "sale" else 0, category="electronics",
                              condition="like_new", images=images or [], city="上海", status=status,
                              favorite_count=0)
            s.add(listing)
        return listing.id

    def set_status(self, listing_id: int, status: str) -> None:
        """Change a listing's status and announce it after commit, as the listing services do."""
        with self.app.app_context():
            with db.transaction() as s:
                old = s.scalar(select(Listing.status).where(Listing.id == listing_id))
                s.execute(update(Listing).where(Listing.id == listing_id).values(status=status))
            emit_listing_status_changed(listing_id=listing_id, old_status=old, new_status=status, actor_id=None)

    def upload(self, owner: Actor, ext: str = "jpg") -> str:
        """The URL of an upload row of `owner` (the file itself is not needed by chat)."""
        return upload(self.app, owner.id, ext)

    def user(self, actor: Actor) -> User:
        """The User row of an actor (call inside an app context, e.g. the `ctx` fixture)."""
        return db.session.get(User, actor.id)

    def inquiry(self, buyer: Actor, listing_id: int) -> dict:
        r = self.client.post(f"{API}/listings/{listing_id}/inquiries", headers=buyer.headers)
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()

    def item_group(self, buyer: Actor, seller: Actor) -> int:
        return self.inquiry(buyer, self.listing(seller))["id"]

    def direct(self, a: Actor, b: Actor) -> int:
        r = self.client.post(f"{API}/users/{b.id}/direct", headers=a.headers)
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()["id"]

    def room(self, owner: Actor, name: str = "二手交流群", description: str = "") -> int:
        from chat.rooms.services import create_room
        with self.app.app_context():
            return create_room(creator=db.session.get(User, owner.id), name=name, description=description).id

    def send_raw(self, actor: Actor, group_id: int, payload: dict[str, Any]):
        return self.client.post(f"{API}/groups/{group_id}/messages", json=payload, headers=actor.headers)

    def send(self, actor: Actor, group_id: int, text: str = "你好", *, client_id: str | None = None,
             type: str = "txt", body: dict | None = None, ext: dict | None = None, status: int = 201) -> dict:
        payload: dict[str, Any] = {"client_id": client_id or f"c-{next(_client_ids)}", "type": type,
                                   "body": body if body is not None else {"text": text}}
        if ext is not None:
            payload["ext"] = ext
        r = self.send_raw(actor, group_id, payload)
        assert r.status_code == status, r.get_json()
        return r.get_json()

    def history(self, actor: Actor, group_id: int, **params: Any) -> dict:
        r = self.client.get(f"{API}/groups/{group_id}/messages", query_string=params, headers=actor.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def block(self, blocker: Actor, blocked: Actor) -> None:
        assert self.client.put(f"{API}/me/blocks/{blocked.id}", headers=blocker.headers).status_code == 204


def put_keyword_rules(client: FlaskClient, admin: Actor, rules: list[dict[str, Any]]) -> dict:
    """Replace the keyword rule set (PUT /admin/keywords) as `admin`."""
    r = client.put(f"{API}/admin/keywords", json={"rules": rules}, headers=admin.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()
