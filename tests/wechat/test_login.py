"""WeChat login and binding against a WeChat stand-in on a free port (WECHAT_API_BASE points at it):
`POST /token {"grant_type": "wechat", "code"}` and `POST /me/wechat {code}`."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from core.db import db
from marketplace.models import User, WeChatIdentity

TOKEN = "/api/v1/token"


def wx_login(client, code: str):
    return client.post(TOKEN, json={"grant_type": "wechat", "code": code})


def test_first_login_creates_the_user_and_the_next_finds_it(client, wechat):
    first = wx_login(client, wechat.state.add_code("openid-A", "union-A"))
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer" and body["user"]["username"].startswith("wx_")
    assert body["user"]["nickname"] == "微信用户"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == body["user"]["id"]

    again = wx_login(client, wechat.state.add_code("openid-A", "union-A"))
    assert again.status_code == 200 and again.get_json()["user"]["id"] == body["user"]["id"]
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        assert db.session.scalar(select(func.count()).select_from(WeChatIdentity)) == 1


def test_a_new_account_has_no_usable_password(client, wechat):
    user = wx_login(client, wechat.state.add_code("openid-B")).get_json()["user"]
    r = client.post(TOKEN, json={"grant_type": "password", "username": user["username"], "password": "!"})
    assert r.status_code == 401


def test_invalid_and_used_codes_are_400_and_change_nothing(client, wechat):
    r = wx_login(client, "never-issued")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_wechat_code"
    code = wechat.state.add_code("openid-C")
    assert wx_login(client, code).status_code == 200
    used = wx_login(client, code)
    assert used.status_code == 400 and used.get_json()["error"]["code"] == "invalid_wechat_code"
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_busy_and_rate_limited_wechat_is_503_with_retry_after(client, wechat):
    for errcode in (-1, 45011):
        code = wechat.state.add_code("openid-D")
        wechat.state.errors[code] = errcode
        r = wx_login(client, code)
        assert r.status_code == 503, r.get_json()
        assert r.get_json()["error"]["code"] == "wechat_unavailable"
        assert int(r.headers["Retry-After"]) >= 1


def test_unreachable_wechat_is_503(client, wechat):
    client.application.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"  # discard port: refused
    r = wx_login(client, "any")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "wechat_unavailable"


def test_wrong_secret_is_502_and_the_secret_is_never_logged(client, wechat, caplog):
    client.application.config["WECHAT_SECRET"] = "wrong-secret-value"
    with caplog.at_level(logging.DEBUG):
        r = wx_login(client, wechat.state.add_code("openid-E"))
        client.application.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"
        wx_login(client, "any")
    assert r.status_code == 502 and r.get_json()["error"]["code"] == "wechat_error"
    assert "wrong-secret-value" not in caplog.text and "wrong-secret-value" not in r.get_data(as_text=True)


def test_grant_fields_are_checked(client, wechat):
    r = client.post(TOKEN, json={"grant_type": "wechat"})
    assert r.status_code == 400 and "code" in r.get_json()["error"]["details"]["fields"]
    r = client.post(TOKEN, json={"grant_type": "wechat", "code": "x", "password": "y"})
    assert r.status_code == 400 and "password" in r.get_json()["error"]["details"]["fields"]
    r = client.post(TOKEN, json={"grant_type": "password", "username": "a"})
    assert r.status_code == 400 and "password" in r.get_json()["error"]["details"]["fields"]
    assert wechat.state.requests == []


def test_bind_then_log_in_with_wechat(client, factory, wechat):
    alice = factory.user()
    r = client.post("/api/v1/me/wechat", json={"code": wechat.state.add_code("openid-F")}, headers=alice.headers)
    assert r.status_code == 204, r.get_json()
    again = client.post("/api/v1/me/wechat", json={"code": wechat.state.add_code("openid-F")}, headers=alice.headers)
    assert again.status_code == 204
    login = wx_login(client, wechat.state.add_code("openid-F"))
    assert login.status_code == 200 and login.get_json()["user"]["id"] == alice.id


def test_one_wechat_identity_per_account(client, factory, wechat):
    alice, bob = factory.user(), factory.user()
    assert client.post("/api/v1/me/wechat", json={"code": wechat.state.add_code("openid-G")},
                       headers=alice.headers).status_code == 204
    taken = client.post("/api/v1/me/wechat", json={"code": wechat.state.add_code("openid-G")}, headers=bob.headers)
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "wechat_bound_elsewhere"
    other = client.post("/api/v1/me/wechat", json={"code": wechat.state.add_code("openid-H")}, headers=alice.headers)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "wechat_already_bound"
    bad = client.post("/api/v1/me/wechat", json={"code": "nope"}, headers=bob.headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_wechat_code"


def test_unionid_finds_the_account_across_openids(client, wechat):
    first = wx_login(client, wechat.state.add_code("openid-I", "union-I")).get_json()["user"]["id"]
    other_app = wx_login(client, wechat.state.add_code("openid-I2", "union-I")).get_json()["user"]["id"]
    assert first == other_app


def test_a_banned_wechat_user_gets_no_token(client, factory, wechat):
    admin = factory.admin()
    user_id = wx_login(client, wechat.state.add_code("openid-J")).get_json()["user"]["id"]
    r = client.post(f"/api/v1/admin/users/{user_id}/ban", json={"reason": "spam"}, headers=admin.headers)
    assert r.status_code in (200, 204), r.get_json()
    banned = wx_login(client, wechat.state.add_code("openid-J"))
    assert banned.status_code == 403 and banned.get_json()["error"]["code"] == "banned"


def test_not_configured_is_503(client):
    r = wx_login(client, "x")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "wechat_not_configured"


def test_openapi_documents_the_wechat_routes_and_their_errors(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    token = spec["paths"]["/api/v1/token"]["post"]
    assert {"400", "403", "502", "503"} <= set(token["responses"])
    grant = spec["components"]["schemas"]["TokenRequest"]["properties"]["grant_type"]
    assert grant["enum"] == ["password", "wechat"]
    bind = spec["paths"]["/api/v1/me/wechat"]["post"]
    assert {"204", "400", "401", "409", "503"} <= set(bind["responses"])
    assert "200" in spec["paths"]["/api/v1/me/subscriptions"]["post"]["responses"]
    put = spec["paths"]["/api/v1/conversations/{group_id}"]["put"]
    assert {"200", "400", "404", "409"} <= set(put["responses"])
    page = spec["components"]["schemas"]["ConversationPage"]["properties"]
    item = spec["components"]["schemas"]["Conversation"]["properties"]
    assert "unread_total" in page and {"muted", "pinned", "peer_read_seq"} <= set(item)
