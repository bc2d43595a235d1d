"""Admin users: search and filter, ban (tokens revoked, login refused), unban, timed bans, the rules."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.db import db, utcnow
from marketplace.models import Token, User
from tests.factories import PASSWORD
from tests.marketplace.admin_helpers import API, ban, error_code, get, post

ADMIN_USER_KEYS = {"id", "username", "nickname", "avatar_url", "bio", "created_at", "rating_avg", "rating_count",
                   "role", "status", "banned_at", "banned_until", "ban_reason"}


def _login(client, username: str):
    return client.post(f"{API}/token", json={"grant_type": "password", "username": username, "password": PASSWORD})


def _users(client, admin, **params) -> list[dict]:
    return get(client, admin, "/admin/users", **params)["items"]


def test_admin_user_list_shows_role_and_ban_but_never_secrets(client, factory):
    admin = factory.admin()
    user = factory.user(nickname="小林")
    body = get(client, admin, "/admin/users")
    assert body["total"] == 2 and body["page"] == 1
    assert [u["id"] for u in body["items"]] == [user.id, admin.id]  # newest first
    row = body["items"][0]
    assert set(row) == ADMIN_USER_KEYS
    assert row["role"] == "user" and row["status"] == "active" and row["banned_at"] is None
    assert "password" not in repr(body) and user.token not in repr(body)


def test_search_matches_username_or_nickname_and_filters_by_status(client, factory):
    admin = factory.admin("boss")
    lin = factory.user("lin_2024", nickname="小林同学")
    jie = factory.user("ajie", nickname="阿杰")
    factory.user("zhang", nickname="张三")
    assert [u["id"] for u in _users(client, admin, q="林")] == [lin.id]
    assert [u["id"] for u in _users(client, admin, q="LIN_")] == [lin.id]
    assert _users(client, admin, q="%") == []  # wildcards match literally
    ban(client, admin, jie.id)
    assert [u["id"] for u in _users(client, admin, status="banned")] == [jie.id]
    assert jie.id not in [u["id"] for u in _users(client, admin, status="active")]
    assert [u["id"] for u in _users(client, admin, q="阿", status="active")] == []
    r = client.get(f"{API}/admin/users?status=gone", headers=admin.headers)
    assert r.status_code == 400 and error_code(r) == "validation_error"


def test_a_ban_revokes_every_token_and_refuses_login(client, factory):
    admin, user = factory.admin(), factory.user()
    phone = factory.login(user.username)
    until = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    body = ban(client, admin, user.id, reason="刷单", until=until.isoformat())
    assert body["status"] == "banned" and body["ban_reason"] == "刷单" and body["banned_at"]
    assert body["banned_until"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    for actor in (user, phone):
        assert client.get(f"{API}/me", headers=actor.headers).status_code == 401
    with client.application.app_context():
        tokens = db.session.scalars(select(Token).where(Token.user_id == user.id)).all()
        assert len(tokens) == 2 and all(t.revoked_at is not None for t in tokens)
    r = _login(client, user.username)
    assert r.status_code == 403 and error_code(r) == "banned"
    assert client.get(f"{API}/me", headers=admin.headers).status_code == 200  # nobody else is touched


def test_unban_lets_the_user_log_in_again_but_old_tokens_stay_dead(client, factory):
    admin, user = factory.admin(), factory.user()
    ban(client, admin, user.id)
    body = post(client, admin, f"/admin/users/{user.id}/unban")
    assert body["status"] == "active" and body["banned_at"] is None and body["ban_reason"] is None
    assert client.get(f"{API}/me", headers=user.headers).status_code == 401
    assert _login(client, user.username).status_code == 200
    r = client.post(f"{API}/admin/users/{user.id}/unban", headers=admin.headers)
    assert r.status_code == 409 and error_code(r) == "not_banned"


def test_banning_again_replaces_reason_and_end_but_keeps_when_it_started(client, factory):
    admin, user = factory.admin(), factory.user()
    first = ban(client, admin, user.id, reason="广告")
    again = ban(client, admin, user.id, reason="广告,屡教不改", until=(utcnow() + timedelta(days=1)).isoformat())
    assert again["banned_at"] == first["banned_at"]
    assert again["ban_reason"] == "广告,屡教不改" and again["banned_until"] is not None


def test_a_timed_ban_ends_by_itself(client, factory):
    admin, user = factory.admin(), factory.user()
    ban(client, admin, user.id, until=(utcnow() + timedelta(hours=1)).isoformat())
    assert _login(client, user.username).status_code == 403
    with client.application.app_context(), db.transaction() as s:  # an hour later
        s.execute(update(User).where(User.id == user.id).values(banned_until=utcnow() - timedelta(seconds=1)))
    assert _login(client, user.username).status_code == 200
    assert [u["status"] for u in _users(client, admin, q=user.username)] == ["active"]
    assert user.id in [u["id"] for u in _users(client, admin, status="active")]
    r = client.post(f"{API}/admin/users/{user.id}/unban", headers=admin.headers)
    assert r.status_code == 409 and error_code(r) == "not_banned"


@pytest.mark.parametrize("body,field", [
    ({}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"reason": "x", "until": "tomorrow"}, "until"),
    ({"reason": "x", "extra": 1}, "extra"),
])
def test_bad_ban_requests_are_400_and_ban_nobody(client, factory, body, field):
    admin, user = factory.admin(), factory.user()
    r = client.post(f"{API}/admin/users/{user.id}/ban", json=body, headers=admin.headers)
    assert r.status_code == 400 and field in r.get_json()["error"]["details"]["fields"]
    assert client.get(f"{API}/me", headers=user.headers).status_code == 200


def test_until_must_be_in_the_future(client, factory):
    admin, user = factory.admin(), factory.user()
    for until in ((utcnow() - timedelta(minutes=1)).isoformat(), "2020-01-01T00:00:00"):
        r = client.post(f"{API}/admin/users/{user.id}/ban", json={"reason": "x", "until": until},
                        headers=admin.headers)
        assert r.status_code == 400 and "until" in r.get_json()["error"]["details"]["fields"]
    assert client.get(f"{API}/me", headers=user.headers).status_code == 200


def test_admins_and_yourself_cannot_be_banned_and_unknown_users_are_404(client, factory):
    admin, other_admin = factory.admin(), factory.admin()
    r = client.post(f"{API}/admin/users/{admin.id}/ban", json={"reason": "x"}, headers=admin.headers)
    assert r.status_code == 403 and error_code(r) == "cannot_ban_self"
    r = client.post(f"{API}/admin/users/{other_admin.id}/ban", json={"reason": "x"}, headers=admin.headers)
    assert r.status_code == 403 and error_code(r) == "cannot_ban_admin"
    for path in ("ban", "unban"):
        r = client.post(f"{API}/admin/users/999999/{path}", json={"reason": "x"} if path == "ban" else None,
                        headers=admin.headers)
        assert r.status_code == 404
    assert client.get(f"{API}/me", headers=other_admin.headers).status_code == 200
