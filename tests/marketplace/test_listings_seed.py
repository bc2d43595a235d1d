"""`flask seed-demo`: demo users and listings, idempotent, never in production."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from core.db import db
from marketplace.listings.demo import DEFAULT_DEMO_PASSWORD
from marketplace.models import Listing, User
from tests.marketplace.test_listings import API

CJK = re.compile(r"[\u4e00-\u9fff]")


def run_seed(app):
    return app.test_cli_runner().invoke(args=["seed-demo"])


def snapshot(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(Listing.id, Listing.status, Listing.buyer_id, Listing.updated_at)
                                  .order_by(Listing.id)).all()
        users = db.session.scalars(select(User.username).order_by(User.id)).all()
    return [tuple(row) for row in rows] + [tuple(users)]


def login(client, username, password):
    return client.post(f"{API}/token", json={"grant_type": "password", "username": username,
                                             "password": password})


def test_seed_creates_demo_users_and_realistic_listings(client, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    app = client.application
    result = run_seed(app)
    assert result.exit_code == 0, result.output
    assert DEFAULT_DEMO_PASSWORD in result.output
    for username in ("demo1", "demo2"):
        assert login(client, username, DEFAULT_DEMO_PASSWORD).status_code == 200
    with app.app_context():
        listings = db.session.scalars(select(Listing)).all()
        assert len(listings) >= 12
        assert {listing.kind for listing in listings} == {"sale", "donation"}
        assert {"active", "reserved", "sold"} <= {listing.status for listing in listings}
        assert len({listing.category for listing in listings}) >= 4
        assert len({listing.city for listing in listings}) >= 3
        assert all(CJK.search(listing.title) and CJK.search(listing.description) for listing in listings)
        for listing in listings:
            assert (listing.buyer_id is not None) == (listing.status in ("reserved", "sold", "given"))
            assert listing.buyer_id != listing.seller_id
    public = client.get(f"{API}/listings", query_string={"q": "耳机"}).get_json()
    assert public["total"] >= 1


def test_seed_help_documents_the_default_password(client):
    result = client.application.test_cli_runner().invoke(args=["seed-demo", "--help"])
    assert result.exit_code == 0 and DEFAULT_DEMO_PASSWORD in result.output


def test_seed_twice_changes_nothing(client):
    app = client.application
    assert run_seed(app).exit_code == 0
    before = snapshot(app)
    again = run_seed(app)
    assert again.exit_code == 0, again.output
    assert "listings created: 0" in again.output
    assert snapshot(app) == before


def test_seed_uses_demo_password_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "另一个演示密码-42")
    result = run_seed(client.application)
    assert result.exit_code == 0
    assert "另一个演示密码-42" not in result.output
    assert login(client, "demo1", "另一个演示密码-42").status_code == 200
    assert login(client, "demo1", DEFAULT_DEMO_PASSWORD).status_code == 401


def test_seed_rejects_a_short_demo_password(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "short")
    result = run_seed(client.application)
    assert result.exit_code != 0 and "8 characters" in result.output


def test_seed_is_refused_in_production(client, monkeypatch):
    app = client.application
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    result = run_seed(app)
    assert result.exit_code != 0 and "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
