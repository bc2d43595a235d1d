"""NOTIFIER=wechat: a subscribe message (subscribeMessage.send) per notification, within the user's
one-time subscription quota (POST /me/subscriptions)."""
from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from flask import current_app

from chat.notify.channels import Note, RetryLater, Skip, Undeliverable
from core.db import db
from marketplace.wechat import client, subscriptions, token
from marketplace.wechat.login import openids_of

#: WeChat shows template times as the user reads them: China Standard Time
CST = timezone(timedelta(hours=8))
#: the longest value of a template `thing` keyword
THING_CHARS = 20
#: the user refused the template, or has no accepted subscription left
REFUSED = 43101


def template_data(note: Note) -> dict[str, dict[str, str]]:
    """The template's keywords (WECHAT_TEMPLATE_FIELDS maps sender/listing/preview/time to them)."""
    values = {"sender": note.sender_nickname[:THING_CHARS], "listing": (note.listing_title or "私信")[:THING_CHARS],
              "preview": (note.preview or "新消息")[:THING_CHARS],
              "time": note.sent_at.astimezone(CST).strftime("%Y-%m-%d %H:%M")}
    mapping = dict(pair.split("=", 1) for pair in current_app.config["WECHAT_TEMPLATE_FIELDS"].split(",") if "=" in pair)  # noqa: E501
    return {keyword.strip(): {"value": values[field.strip()]} for field, keyword in mapping.items()
            if field.strip() in values}


def _send(payload: dict[str, Any]) -> None:
    """Send with the shared access token; when WeChat says it expired, refresh once and resend."""
    current = token.access_token()
    try:
        client.send_subscribe_message(current, payload)
    except client.WeChatError as exc:
        if exc.errcode not in client.TOKEN_EXPIRED_CODES:
            raise
        token.forget(current)
        client.send_subscribe_message(token.access_token(), payload)


def send_wechat(note: Note) -> None:
    cfg = current_app.config
    template = cfg.get("WECHAT_TEMPLATE_ID")
    if not template or not cfg.get("WECHAT_APPID"):
        raise Undeliverable("WECHAT_APPID and WECHAT_TEMPLATE_ID are needed for NOTIFIER=wechat")
    openid = openids_of(db.session, [note.user_id]).get(note.user_id)
    db.session.rollback()
    if openid is None:
        raise Skip("no_openid")
    with db.transaction() as s:
        if not subscriptions.take_one(s, user_id=note.user_id, template_id=template):
            raise Skip("no_quota")
    payload = {"touser": openid, "template_id": template, "page": note.page, "data": template_data(note),
               "miniprogram_state": cfg["WECHAT_MINIPROGRAM_STATE"], "lang": "zh_CN"}
    try:
        _send(payload)
    except client.WeChatError as exc:
        with db.transaction() as s:
            if exc.errcode == REFUSED:
                subscriptions.clear(s, user_id=note.user_id, template_id=template)
            else:
                subscriptions.give_back(s, user_id=note.user_id, template_id=template)
        if exc.errcode == REFUSED:
            raise Skip("refused") from None
        if exc.busy or exc.errcode in client.TOKEN_EXPIRED_CODES:
            raise RetryLater(f"wechat errcode {exc.errcode}") from None
        raise Undeliverable(f"wechat errcode {exc.errcode}") from None
    except (client.WeChatUnreachable, client.WeChatNotConfigured) as exc:
        with db.transaction() as s:
            subscriptions.give_back(s, user_id=note.user_id, template_id=template)
        raise RetryLater(str(exc)) from None
