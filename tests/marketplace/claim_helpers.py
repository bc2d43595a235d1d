"""Helpers shared by the claim tests: a giver with a donation and a claimant, calls, raw status changes."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.db import db
from marketplace.models import Claim
from tests.factories import Actor, Factory, set_listing

API = "/api/v1"
ACTIONS = ("accept", "decline", "cancel", "complete", "no_show")


@dataclass
class Scene:
    """A giver with one donation listing, a claimant, and two bystanders (a user and an admin)."""

    client: FlaskClient
    factory: Factory
    seller: Actor
    claimant: Actor
    other: Actor
    admin: Actor
    listing_id: int

    def claim(self, actor: Actor | None = None, listing_id: int | None = None, **body):
        return claim(self.client, actor or self.claimant, listing_id or self.listing_id, **body)

    def act(self, actor: Actor | None, claim_id: int, action: str):
        """`actor` None: anonymous."""
        return act(self.client, actor, claim_id, action)

    def listing(self) -> dict:
        """The listing as its seller sees it (buyer_id included)."""
        r = self.client.get(f"{API}/listings/{self.listing_id}", headers=self.seller.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def claims(self, actor: Actor | None = None, **query) -> dict:
        r = self.client.get(f"{API}/listings/{self.listing_id}/claims", query_string=query,
                            headers=(actor or self.seller).headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def statuses(self) -> dict[int, str]:
        """Every claim of the listing by id, as the seller sees them."""
        return {c["id"]: c["status"] for c in self.claims(page_size=100)["items"]}


def make_scene(factory: Factory) -> Scene:
    seller = factory.user(nickname="热心邻居")
    listing = factory.donation(seller)
    return Scene(client=factory.client, factory=factory, seller=seller, claimant=factory.user(nickname="小红"),
                 other=factory.user(), admin=factory.admin(), listing_id=listing["id"])


def claim(client: FlaskClient, actor: Actor | None, listing_id: int, **body):
    return client.post(f"{API}/listings/{listing_id}/claims", json=body,
                       headers=actor.headers if actor else {})


def act(client: FlaskClient, actor: Actor | None, claim_id: int, action: str):
    return client.post(f"{API}/claims/{claim_id}/{action}", headers=actor.headers if actor else {})


def new_claim(scene: Scene, actor: Actor | None = None, **body) -> dict:
    r = scene.claim(actor, **body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def force_listing_status(app: Flask, listing_id: int, status: str) -> None:
    """Put a listing in a status no seller endpoint reaches (removed, pending_review, rejected)."""
    set_listing(app, listing_id, status=status)


def db_claims(app: Flask, **where) -> list[Claim]:
    with app.app_context():
        stmt = select(Claim).filter_by(**where).order_by(Claim.id)
        return list(db.session.scalars(stmt))
