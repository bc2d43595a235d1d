"""Blocking users: stored per blocker, idempotent, listed, and enforced where two users meet."""
from __future__ import annotations

API = "/api/v1"


def test_block_list_and_unblock(client, factory):
    me, pest = factory.user(), factory.user(nickname="骚扰者")
    assert client.put(f"{API}/me/blocks/{pest.id}", headers=me.headers).status_code == 204
    assert client.put(f"{API}/me/blocks/{pest.id}", headers=me.headers).status_code == 204
    page = client.get(f"{API}/me/blocks", headers=me.headers).get_json()
    assert page["total"] == 1 and page["items"][0]["user"] == {"id": pest.id, "nickname": "骚扰者", "avatar_url": None}
    assert client.get(f"{API}/me/blocks", headers=pest.headers).get_json()["total"] == 0
    assert client.delete(f"{API}/me/blocks/{pest.id}", headers=me.headers).status_code == 204
    assert client.delete(f"{API}/me/blocks/{pest.id}", headers=me.headers).status_code == 204
    assert client.get(f"{API}/me/blocks", headers=me.headers).get_json()["total"] == 0


def test_block_rules(client, factory):
    me = factory.user()
    assert client.put(f"{API}/me/blocks/{me.id}", headers=me.headers).status_code == 400
    assert client.put(f"{API}/me/blocks/999999", headers=me.headers).status_code == 404
    assert client.put(f"{API}/me/blocks/1").status_code == 401
    assert client.get(f"{API}/me/blocks").status_code == 401


def test_blocked_user_cannot_claim_the_blockers_donation(client, factory):
    giver, pest = factory.user(), factory.user()
    donation = factory.donation(giver)
    client.put(f"{API}/me/blocks/{pest.id}", headers=giver.headers)
    r = client.post(f"{API}/listings/{donation['id']}/claims", headers=pest.headers, json={"message": "我要"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"


def test_blocked_user_cannot_open_an_inquiry_or_direct_chat(client, factory):
    seller, pest = factory.user(), factory.user()
    listing = factory.listing(seller)
    client.put(f"{API}/me/blocks/{pest.id}", headers=seller.headers)
    assert client.post(f"{API}/listings/{listing['id']}/inquiries", headers=pest.headers).status_code == 403
    assert client.post(f"{API}/users/{seller.id}/direct", headers=pest.headers).status_code == 403
