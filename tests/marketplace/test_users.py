"""Registration, tokens, the caller's profile and public profiles."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.db import db, utcnow
from marketplace.models import Token, User
from tests.factories import PASSWORD, upload

API = "/api/v1"


def login(client, username: str, password: str = PASSWORD):
    return client.post(f"{API}/token", json={"grant_type": "password", "username": username,
                                              "password": password})


def test_register_returns_profile_without_secrets(client):
    r = client.post(f"{API}/users", json={"username": "xiao_ming", "password": PASSWORD, "nickname": "小明🎈"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["username"] == "xiao_ming" and body["nickname"] == "小明🎈" and body["role"] == "user"
    assert body["rating_avg"] is None and body["rating_count"] == 0
    assert not {"password", "password_hash", "token", "ban_reason", "banned_until"} & set(body)


def test_nickname_defaults_to_the_username(client):
    r = client.post(f"{API}/users", json={"username": "li.lei-2", "password": PASSWORD})
    assert r.status_code == 201 and r.get_json()["nickname"] == "li.lei-2"


@pytest.mark.parametrize("body, field", [
    ({"username": "ab", "password": PASSWORD}, "username"),
    ({"username": "a" * 33, "password": PASSWORD}, "username"),
    ({"username": "小明", "password": PASSWORD}, "username"),
    ({"username": "bad name", "password": PASSWORD}, "username"),
    ({"username": "o'brien", "password": PASSWORD}, "username"),
    ({"username": 12345, "password": PASSWORD}, "username"),
    ({"password": PASSWORD}, "username"),
    ({"username": "shorty", "password": "1234567"}, "password"),
    ({"username": "nopass"}, "password"),
    ({"username": "nick", "password": PASSWORD, "nickname": ""}, "nickname"),
    ({"username": "nick", "password": PASSWORD, "nickname": "长" * 33}, "nickname"),
    ({"username": "mallory", "password": PASSWORD, "role": "admin"}, "role"),
    ({"username": "mallory", "password": PASSWORD, "id": 1}, "id"),
])
def test_register_rejects_bad_input_naming_the_field(client, body, field):
    r = client.post(f"{API}/users", json=body)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]["fields"]
    with client.application.app_context():
        assert db.session.scalar(select(User.id)) is None


def test_register_rejects_malformed_json(client):
    r = client.post(f"{API}/users", data='{"username": "x"', content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_duplicate_username_conflicts(client, factory):
    factory.user("taken")
    r = client.post(f"{API}/users", json={"username": "taken", "password": PASSWORD})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "username_taken"


def test_password_is_stored_as_an_argon2_hash(client, factory):
    factory.user("hashy")
    with client.application.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "hashy"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_token_response_and_storage(client, factory):
    factory.user("alice")
    r = login(client, "alice")
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == client.application.config["TOKEN_TTL_SECONDS"]
    assert body["user"]["username"] == "alice" and body["user"]["role"] == "user"
    with client.application.app_context():
        hashes = list(db.session.scalars(select(Token.token_hash)))
    assert hashlib.sha256(body["access_token"].encode()).hexdigest() in hashes
    assert body["access_token"] not in hashes


@pytest.mark.parametrize("body", [
    {"grant_type": "client_credentials", "username": "alice", "password": PASSWORD},
    {"username": "alice", "password": PASSWORD},
    {"grant_type": "password", "username": "alice"},
    {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "admin"},
])
def test_token_request_validation(client, factory, body):
    factory.user("alice")
    r = client.post(f"{API}/token", json=body)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"


def test_wrong_password_and_unknown_user_look_the_same(client, factory):
    factory.user("bob")
    wrong, unknown = login(client, "bob", "nope-nope-nope"), login(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    bodies = [r.get_json() for r in (wrong, unknown)]
    for body in bodies:
        body["error"]["details"].pop("request_id")  # each request has its own
    assert bodies[0] == bodies[1]
    assert bodies[0]["error"]["code"] == "invalid_credentials"


def test_banned_user_cannot_log_in_until_the_ban_ends(client, factory):
    factory.user("carol")
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.username == "carol").values(
            banned_at=utcnow(), banned_until=utcnow() + timedelta(days=1), ban_reason="spam"))
    r = login(client, "carol")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "banned"
    assert "spam" not in r.get_data(as_text=True)
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.username == "carol").values(banned_until=utcnow() - timedelta(seconds=1)))
    assert login(client, "carol").status_code == 200


def test_revoking_a_token_stops_it_at_once_but_not_the_others(client, factory):
    alice = factory.user("alice")
    phone = factory.login("alice")
    assert client.get(f"{API}/me", headers=alice.headers).get_json()["username"] == "alice"
    assert client.delete(f"{API}/token", headers=alice.headers).status_code == 204
    r = client.get(f"{API}/me", headers=alice.headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert client.get(f"{API}/me", headers=phone.headers).status_code == 200
    assert client.delete(f"{API}/token", headers=alice.headers).status_code == 401


def test_expired_token_fails(client, factory):
    alice = factory.user("alice")
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(f"{API}/me", headers=alice.headers).status_code == 401


def test_banned_users_tokens_stop_working(client, factory):
    dave = factory.user("dave")
    with client.application.app_context(), db.transaction() as s:
        s.execute(update(User).where(User.id == dave.id).values(banned_at=utcnow()))
    assert client.get(f"{API}/me", headers=dave.headers).status_code == 401


def test_me_requires_a_token(client):
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_patch_me_changes_profile_fields(client, factory):
    erin = factory.user("erin")
    avatar = upload(client.application, erin.id)
    r = client.patch(f"{API}/me", headers=erin.headers,
                     json={"nickname": "小艾😀", "bio": "<b>爱收藏</b>' OR 1=1 --", "avatar_url": avatar})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["nickname"] == "小艾😀" and body["bio"] == "<b>爱收藏</b>' OR 1=1 --" and body["avatar_url"] == avatar
    assert client.get(f"{API}/me", headers=erin.headers).get_json()["bio"] == "<b>爱收藏</b>' OR 1=1 --"
    assert client.patch(f"{API}/me", headers=erin.headers, json={"avatar_url": None}).get_json()["avatar_url"] is None


@pytest.mark.parametrize("body, field", [
    ({"role": "admin"}, "role"),
    ({"username": "renamed"}, "username"),
    ({"nickname": ""}, "nickname"),
    ({"bio": "长" * 501}, "bio"),
    ({"avatar_url": "https://evil.example/a.png"}, "avatar_url"),
    ({"avatar_url": "http://localhost/api/v1/uploads/" + "0" * 32 + ".png"}, "avatar_url"),
    ({"nickname": ["x"]}, "nickname"),
])
def test_patch_me_rejects_bad_fields_and_changes_nothing(client, factory, body, field):
    erin = factory.user("erin")
    r = client.patch(f"{API}/me", headers=erin.headers, json=body)
    assert r.status_code == 400 and field in r.get_json()["error"]["details"]["fields"]
    me = client.get(f"{API}/me", headers=erin.headers).get_json()
    assert me["role"] == "user" and me["nickname"] == "erin" and me["username"] == "erin"


def test_public_profile_shows_public_fields_only(client, factory):
    frank, viewer = factory.user("frank", nickname="阿福"), factory.user()
    r = client.get(f"{API}/users/{frank.id}", headers=viewer.headers)
    assert r.status_code == 200
    assert set(r.get_json()) == {"id", "username", "nickname", "avatar_url", "bio", "created_at",
                                 "rating_avg", "rating_count"}
    assert client.get(f"{API}/users/{frank.id}").status_code == 401
    assert client.get(f"{API}/users/999999", headers=viewer.headers).status_code == 404
