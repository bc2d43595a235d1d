"""Registration, tokens, profiles."""
from __future__ import annotations

from tests.factories import PASSWORD


def test_register_returns_profile_without_secrets(client):
    r = client.post("/api/v1/users", json={"username": "xiao_ming", "password": PASSWORD, "nickname": "小明"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["username"] == "xiao_ming" and body["nickname"] == "小明" and body["role"] == "user"
    assert not {"password", "password_hash", "token"} & set(body)


def test_register_rejects_role_and_unknown_fields(client):
    r = client.post("/api/v1/users", json={"username": "mallory", "password": PASSWORD, "role": "admin"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "validation_error"
    assert "role" in r.get_json()["error"]["details"]["fields"]
    assert client.post("/api/v1/token", json={"grant_type": "password", "username": "mallory",
                                              "password": PASSWORD}).status_code == 401


def test_duplicate_username_conflicts(client, factory):
    factory.user("taken")
    r = client.post("/api/v1/users", json={"username": "taken", "password": PASSWORD})
    assert r.status_code == 409


def test_token_lifecycle(client, factory):
    alice = factory.user("alice")
    assert client.get("/api/v1/me", headers=alice.headers).get_json()["username"] == "alice"
    assert client.delete("/api/v1/token", headers=alice.headers).status_code == 204
    r = client.get("/api/v1/me", headers=alice.headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_wrong_password_is_401(client, factory):
    factory.user("bob")
    r = client.post("/api/v1/token", json={"grant_type": "password", "username": "bob", "password": "nope-nope"})
    assert r.status_code == 401
