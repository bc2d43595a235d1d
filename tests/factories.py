"""Small factories that build test data through the public API."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from core.db import db
from marketplace.models import Listing, Upload
from marketplace.uploads.urls import upload_url

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


@dataclass
class Actor:
    """A registered user with a live token."""

    id: int
    username: str
    token: str
    role: str = "user"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def user(self, username: str | None = None, *, nickname: str | None = None,
             role: str = "user") -> Actor:
        username = username or f"user{next(_seq)}"
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        if nickname:
            body["nickname"] = nickname
        if role == "admin":
            from marketplace.users.services import register_user
            with self.client.application.app_context():
                register_user(username=username, password=PASSWORD, nickname=nickname, role="admin")
        else:
            r = self.client.post("/api/v1/users", json=body)
            assert r.status_code == 201, r.get_json()
        return self.login(username, role=role)

    def admin(self, username: str | None = None) -> Actor:
        return self.user(username or f"admin{next(_seq)}", role="admin")

    def login(self, username: str, *, role: str = "user") -> Actor:
        r = self.client.post("/api/v1/token", json={
            "grant_type": "password", "username": username, "password": PASSWORD})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        return Actor(id=body["user"]["id"], username=username, token=body["access_token"], role=role)

    def listing(self, seller: Actor, **overrides: Any) -> dict:
        body = {"kind": "sale", "title": "九成新 iPhone 13 128G", "description": "自用一年,无划痕,送手机壳。",
                "price_cents": 250000, "category": "electronics", "condition": "like_new",
                "city": "上海", "images": []}
        if overrides.get("kind") == "donation":
            body["price_cents"] = 0
        body.update(overrides)
        r = self.client.post("/api/v1/listings", json=body, headers=seller.headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def donation(self, seller: Actor, **overrides: Any) -> dict:
        overrides.setdefault("title", "免费送:宜家书架")
        overrides.setdefault("category", "furniture")
        return self.listing(seller, kind="donation", **overrides)

    def inquiry(self, buyer: Actor, listing_id: int) -> int:
        """The buyer asks about the listing (an item chat): they become someone the seller may name as buyer."""
        r = self.client.post(f"/api/v1/listings/{listing_id}/inquiries", headers=buyer.headers)
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()["id"]

    def set_listing(self, listing_id: int, **columns: Any) -> None:
        set_listing(self.client.application, listing_id, **columns)

    def upload(self, owner_id: int, ext: str = "jpg") -> str:
        return upload(self.client.application, owner_id, ext)


def set_listing(app: Flask, listing_id: int, **columns: Any) -> None:
    """Write listing columns straight to the database (statuses no seller endpoint reaches)."""
    with app.app_context(), db.transaction() as s:
        s.execute(update(Listing).where(Listing.id == listing_id).values(**columns))


#: the content type POST /uploads stores for a file of each extension (sniffed there, assumed here)
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "mp3": "audio/mpeg",
                 "m4a": "audio/mp4", "mp4": "video/mp4", "mov": "video/quicktime", "pdf": "application/pdf"}


def upload(app: Flask, owner_id: int, ext: str = "jpg") -> str:
    """Record an upload row as POST /uploads would (no file needed) and return its URL."""
    name = f"{uuid.uuid4().hex}.{ext}"
    with app.test_request_context(base_url="http://localhost"), db.transaction() as s:
        s.add(Upload(owner_id=owner_id, name=name, content_type=CONTENT_TYPES[ext], size=1234))
        return upload_url(name)
