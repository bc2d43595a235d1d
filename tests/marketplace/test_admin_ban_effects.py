"""What a ban does beyond the account: live sockets close at once (4403), the seller's listings on the
market disappear for everyone but admins, and lifting the ban (or its end passing) brings back exactly them."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update

from core.db import db, utcnow
from marketplace.models import User
from tests.marketplace.admin_helpers import API, ban, get, post
from tests.support.wsclient import WsClient


def test_a_ban_closes_the_users_live_sockets_within_a_second(live_server, client, factory):
    admin, user, bystander = factory.admin(), factory.user(), factory.user()
    ws, other = WsClient(live_server.ws_url, user.token), WsClient(live_server.ws_url, bystander.token)
    try:
        ws.ready()
        other.ready()
        started = time.monotonic()
        ban(client, admin, user.id)
        assert ws.close_status(timeout=3) == 4403
        assert time.monotonic() - started < 1.0
        assert [f["error"]["code"] for f in ws.seen if f["op"] == "error"] == ["banned"]
        other.send({"op": "ping"})
        assert other.op("pong")["op"] == "pong"
    finally:
        ws.close()
        other.close()


def _market(client, factory):
    seller, fan = factory.user(), factory.user()
    listings = {status: factory.listing(seller, title=f"{status} 商品")["id"]
                for status in ("active", "reserved", "sold")}
    for listing_id in listings.values():
        assert client.put(f"{API}/listings/{listing_id}/favorite", headers=fan.headers).status_code == 200
    for listing_id in (listings["reserved"], listings["sold"]):
        factory.inquiry(fan, listing_id)
    post(client, seller, f"/listings/{listings['reserved']}/status", {"status": "reserved", "buyer_id": fan.id})
    post(client, seller, f"/listings/{listings['sold']}/status", {"status": "reserved", "buyer_id": fan.id})
    post(client, seller, f"/listings/{listings['sold']}/status", {"status": "sold"})
    return seller, fan, listings


def _seen(client, viewer, seller_id: int) -> dict[str, set[int]]:
    """Which of the seller's listings `viewer` (None: anonymous) finds, per way of looking."""
    headers = viewer.headers if viewer else {}
    found = {}
    for status in ("active", "reserved", "sold"):
        r = client.get(f"{API}/listings", query_string={"status": status, "seller_id": seller_id}, headers=headers)
        found[f"search {status}"] = {item["id"] for item in r.get_json()["items"]}
    if viewer is not None:
        r = client.get(f"{API}/me/favorites", headers=headers)
        found["favorites"] = {item["id"] for item in r.get_json()["items"]}
    return found


def _gettable(client, viewer, listings: dict[str, int]) -> set[str]:
    headers = viewer.headers if viewer else {}
    return {status for status, listing_id in listings.items()
            if client.get(f"{API}/listings/{listing_id}", headers=headers).status_code == 200}


def test_a_ban_hides_the_sellers_listings_on_the_market_and_unban_restores_them(client, factory):
    admin = factory.admin()
    seller, fan, listings = _market(client, factory)
    before = {who: _seen(client, viewer, seller.id) for who, viewer in (("anon", None), ("fan", fan))}
    assert before["fan"]["favorites"] == set(listings.values())

    ban(client, admin, seller.id)
    for viewer in (None, fan):
        seen = _seen(client, viewer, seller.id)
        assert seen["search active"] == seen["search reserved"] == set()
        assert seen["search sold"] == {listings["sold"]}  # a done deal is history, not on the market
        assert _gettable(client, viewer, listings) == {"sold"}
    assert _seen(client, fan, seller.id)["favorites"] == {listings["sold"]}
    r = client.put(f"{API}/listings/{listings['active']}/favorite", headers=fan.headers)
    assert r.status_code == 404
    r = client.post(f"{API}/listings/{listings['active']}/inquiries", headers=fan.headers)
    assert r.status_code == 404  # a hidden listing takes no new chats either, even by its id
    assert _seen(client, admin, seller.id)["search active"] == {listings["active"]}
    assert _gettable(client, admin, listings) == set(listings)
    statuses = {s: get(client, admin, f"/listings/{i}")["status"] for s, i in listings.items()}
    assert statuses == {"active": "active", "reserved": "reserved", "sold": "sold"}  # nothing was changed

    post(client, admin, f"/admin/users/{seller.id}/unban")
    after = {who: _seen(client, viewer, seller.id) for who, viewer in (("anon", None), ("fan", fan))}
    assert after == before
    assert _gettable(client, fan, listings) == set(listings)


def test_when_a_timed_ban_runs_out_the_listings_come_back_by_themselves(client, factory):
    admin = factory.admin()
    seller, fan, listings = _market(client, factory)
    ban(client, admin, seller.id, until=(utcnow() + timedelta(hours=2)).isoformat())
    assert _gettable(client, fan, listings) == {"sold"}
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.id == seller.id).values(banned_until=utcnow() - timedelta(seconds=1)))
    assert _gettable(client, fan, listings) == set(listings)
    assert _seen(client, None, seller.id)["search active"] == {listings["active"]}


def test_a_banned_users_requests_and_sends_are_refused(client, factory):
    admin, user, peer = factory.admin(), factory.user(), factory.user()
    r = client.post(f"{API}/users/{peer.id}/direct", headers=user.headers)
    group_id = r.get_json()["id"]
    ban(client, admin, user.id)
    r = client.post(f"{API}/groups/{group_id}/messages", headers=user.headers,
                    json={"client_id": "after-ban", "type": "txt", "body": {"text": "还在吗"}})
    assert r.status_code == 401
    assert client.post(f"{API}/listings", json={}, headers=user.headers).status_code == 401
