"""NOTIFIER=wechat against a WeChat stand-in on a free port (WECHAT_API_BASE points at it; see
tests/support/wechat_server.py): subscribe messages within the one-time quota recorded by
`POST /me/subscriptions`, the shared access token from stable_token, and WeChat's refusal codes."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest
from sqlalchemy import select, update

from chat.notify.worker import drain
from core.db import db, utcnow
from marketplace.models import WeChatAccessToken, WeChatSubscription
from tests.chat.helpers import API, ChatHelper
from tests.factories import Actor

WINDOW_S = 300


@pytest.fixture
def notifying(clean_app, wechat) -> Iterator[None]:
    settings = {"NOTIFIER": "wechat", "NOTIFY_DELAY_S": 0, "NOTIFY_WINDOW_S": WINDOW_S}
    saved = {name: clean_app.config.get(name) for name in settings}
    clean_app.config.update(settings)
    try:
        yield
    finally:
        clean_app.config.update(saved)


def wechat_user(client, wechat, openid: str) -> Actor:
    body = client.post(f"{API}/token", json={"grant_type": "wechat", "code": wechat.state.add_code(openid)}).get_json()
    return Actor(id=body["user"]["id"], username=body["user"]["username"], token=body["access_token"])


def subscribe(client, actor, wechat, accepted: bool = True, openid: str | None = None):
    """What the mini-program does after wx.requestSubscribeMessage (WeChat then holds one more for `openid`)."""
    r = client.post(f"{API}/me/subscriptions", json={"template_id": wechat.state.template_id, "accepted": accepted},
                    headers=actor.headers)
    assert r.status_code == 200, r.get_json()
    if accepted and openid:
        wechat.state.quota[openid] = wechat.state.quota.get(openid, 0) + 1
    return r.get_json()


def remaining(app, actor) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(WeChatSubscription.remaining)
                                     .where(WeChatSubscription.user_id == actor.id)) or 0
        finally:
            db.remove()


SELLER_OPENID = "openid-seller"


@pytest.fixture
def pair(client, factory, wechat, notifying):
    """A buyer (password account) asking a seller who logs in with WeChat (SELLER_OPENID)."""
    buyer = factory.user(nickname="一位非常非常非常非常非常长昵称的买家朋友")
    return ChatHelper(client, factory), buyer, wechat_user(client, wechat, SELLER_OPENID)


def test_subscriptions_count_accepted_requests(client, factory, wechat):
    user = factory.user()
    assert subscribe(client, user, wechat) == {"template_id": wechat.state.template_id, "remaining": 1}
    assert subscribe(client, user, wechat)["remaining"] == 2
    assert subscribe(client, user, wechat, accepted=False)["remaining"] == 2
    r = client.post(f"{API}/me/subscriptions", json={"template_id": "someone-elses", "accepted": True},
                    headers=user.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_template"
    r = client.post(f"{API}/me/subscriptions", json={"template_id": wechat.state.template_id}, headers=user.headers)
    assert r.status_code == 400 and "accepted" in r.get_json()["error"]["details"]["fields"]


def test_one_subscribe_message_per_accepted_subscription(client, wechat, pair):
    chat, buyer, seller = pair
    group_id = chat.item_group(buyer, seller)
    subscribe(client, seller, wechat, openid=SELLER_OPENID)
    for text in ("在吗", "这个还在卖吗?能不能便宜一点呢,我今天就可以来拿"):
        chat.send(buyer, group_id, text)
    assert drain(client.application) == {"sent": 1}
    [sent] = wechat.state.sent
    assert sent["touser"] == SELLER_OPENID and sent["template_id"] == wechat.state.template_id
    assert sent["page"] == f"pages/chat/chat?group_id={group_id}" and sent["lang"] == "zh_CN"
    assert set(sent["data"]) == {"thing1", "thing2", "thing3", "time4"}
    assert sent["data"]["thing1"]["value"] == "一位非常非常非常非常非常长昵称的买家朋友"[:20]
    assert sent["data"]["thing2"]["value"] == "九成新 iPhone 13 128G"
    assert sent["data"]["thing3"]["value"] == "这个还在卖吗?能不能便宜一点呢,我今天就可以来拿"[:20]
    assert len(sent["data"]["time4"]["value"]) == len("2026-12-03 15:30")
    assert remaining(client.application, seller) == 0

    # The quota is used up: the next burst (after the window) sends nothing.
    chat.send(buyer, group_id, "人呢")
    assert drain(client.application, now=utcnow() + timedelta(seconds=WINDOW_S + 1)) == {"no_quota": 1}
    assert len(wechat.state.sent) == 1


def test_refused_by_wechat_clears_the_quota(client, wechat, pair):
    chat, buyer, seller = pair
    subscribe(client, seller, wechat, openid=SELLER_OPENID)
    wechat.state.quota[SELLER_OPENID] = 0  # the user turned the template off in WeChat
    chat.send(buyer, chat.item_group(buyer, seller), "在吗")
    assert drain(client.application) == {"refused": 1}
    assert remaining(client.application, seller) == 0 and wechat.state.sent == []


def test_users_without_wechat_get_nothing(client, factory, wechat, notifying):
    chat = ChatHelper(client, factory)
    buyer, seller = factory.user(), factory.user()
    chat.send(buyer, chat.item_group(buyer, seller), "在吗")
    assert drain(client.application) == {"no_openid": 1}
    assert wechat.state.sent == []


def test_the_access_token_is_shared_and_refreshed_once_when_expired(client, wechat, pair):
    chat, buyer, seller = pair
    for _ in range(3):
        subscribe(client, seller, wechat, openid=SELLER_OPENID)
    groups = [chat.item_group(buyer, seller) for _ in range(3)]
    chat.send(buyer, groups[0], "一")
    chat.send(buyer, groups[1], "二")
    assert drain(client.application) == {"sent": 2}
    assert len(wechat.state.token_calls) == 1  # fetched once, then read from the database
    assert wechat.state.token_calls[0] == {"grant_type": "client_credential", "appid": wechat.state.appid,
                                           "secret": wechat.state.secret, "force_refresh": False}
    wechat.state.expire_token()  # WeChat now answers 42001 to the token we hold
    chat.send(buyer, groups[2], "三")
    assert drain(client.application) == {"sent": 1}
    assert len(wechat.state.token_calls) == 2 and len(wechat.state.sent) == 3


def test_a_token_about_to_expire_is_refreshed_before_use(client, wechat, pair):
    chat, buyer, seller = pair
    subscribe(client, seller, wechat, openid=SELLER_OPENID)
    subscribe(client, seller, wechat, openid=SELLER_OPENID)
    chat.send(buyer, chat.item_group(buyer, seller), "一")
    assert drain(client.application) == {"sent": 1}
    with client.application.app_context():
        with db.transaction() as s:
            s.execute(update(WeChatAccessToken).values(expires_at=utcnow() + timedelta(seconds=60)))
    chat.send(buyer, chat.item_group(buyer, seller), "二")
    assert drain(client.application) == {"sent": 1}
    assert len(wechat.state.token_calls) == 2


def test_wechat_busy_is_retried_and_the_quota_given_back(client, wechat, pair):
    chat, buyer, seller = pair
    subscribe(client, seller, wechat, openid=SELLER_OPENID)
    wechat.state.send_errors = [-1, 45011]
    chat.send(buyer, chat.item_group(buyer, seller), "在吗")
    now = utcnow()
    assert drain(client.application, now=now) == {"retrying": 1}
    assert remaining(client.application, seller) == 1
    assert drain(client.application, now=now + timedelta(seconds=6)) == {"retrying": 1}
    assert drain(client.application, now=now + timedelta(seconds=20)) == {"sent": 1}
    assert remaining(client.application, seller) == 0 and len(wechat.state.sent) == 1
