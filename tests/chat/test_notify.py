"""Notifications for offline recipients through the webhook and log channels: queued in the send
transaction, sent by the worker (`drain`, or its thread), coalesced, skipped for online, muted,
read and blocked, retried with backoff, and never lost by a killed worker.

The webhook tests receive real signed requests on a receiver of ours (tests/support/webhook_server.py).
Time passing (backoff, the coalescing window, an expired lease) is stood in for by `drain(now=...)`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from chat.models import ChatNotification
from chat.notify.worker import drain, start
from core.db import db, utcnow
from tests.chat.helpers import API, ChatHelper
from tests.support.webhook_server import WebhookReceiver
from tests.support.wsclient import WsClient, serve, tuned_app, wait_until

SECRET = "webhook-test-secret"
WINDOW_S = 300
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hook(clean_app) -> Iterator[WebhookReceiver]:
    """NOTIFIER=webhook to a receiver of ours, no delay before the first notification."""
    settings = {"NOTIFIER": "webhook", "NOTIFY_WEBHOOK_SECRET": SECRET, "NOTIFY_DELAY_S": 0,
                "NOTIFY_WINDOW_S": WINDOW_S, "NOTIFY_BACKOFF_S": 5, "NOTIFY_MAX_ATTEMPTS": 3,
                "NOTIFY_LEASE_S": 60}
    saved = {name: clean_app.config.get(name) for name in [*settings, "NOTIFY_WEBHOOK_URL"]}
    with WebhookReceiver() as receiver:
        clean_app.config.update(settings, NOTIFY_WEBHOOK_URL=receiver.url)
        try:
            yield receiver
        finally:
            clean_app.config.update(saved)


def rows(app) -> list:
    with app.app_context():
        try:
            return db.session.execute(select(ChatNotification).order_by(ChatNotification.user_id)).scalars().all()
        finally:
            db.remove()


def test_an_offline_recipient_gets_one_signed_webhook_per_burst(client, factory, chat, hook):
    buyer, seller = factory.user(nickname="小王"), factory.user()
    group_id = chat.item_group(buyer, seller)
    for text in ("在吗", "还在卖吗", "能便宜点吗?"):
        chat.send(buyer, group_id, text)
    assert drain(client.application) == {"sent": 1}
    assert drain(client.application) == {}
    [request] = hook.received
    headers, raw, body = request["headers"], request["raw"], request["body"]
    expected = hmac.new(SECRET.encode(), headers["x-paipai-timestamp"].encode() + b"." + raw, hashlib.sha256)
    assert headers["x-paipai-signature"] == "sha256=" + expected.hexdigest()
    assert headers["x-paipai-delivery"] == f"{seller.id}:{group_id}:{body['message_id']}"
    assert body | {"sent_at": None, "message_id": None} == {
        "type": "chat.message", "user_id": seller.id, "group_id": group_id, "message_id": None, "seq": 3,
        "count": 3, "sender": {"id": buyer.id, "nickname": "小王"},
        "listing": {"id": body["listing"]["id"], "title": "九成新 iPhone 13 128G"}, "preview": "能便宜点吗?",
        "sent_at": None, "page": f"pages/chat/chat?group_id={group_id}"}

    # Within the window the next burst waits; after it, one more notification covers it.
    chat.send(buyer, group_id, "人呢")
    chat.send(buyer, group_id, "回一下")
    assert drain(client.application) == {}
    assert drain(client.application, now=utcnow() + timedelta(seconds=WINDOW_S + 1)) == {"sent": 1}
    assert [r["body"]["count"] for r in hook.received] == [3, 2]
    assert [(r.user_id, r.sent_count, r.due_at) for r in rows(client.application)] == [(seller.id, 2, None)]


def test_sends_over_the_websocket_queue_one_notification_per_burst(client, factory, chat, hook, ws_ready):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws = ws_ready(buyer)
    for i in range(4):
        buyer_ws.send_text(group_id, f"第{i}条", f"burst-{i}")
    for _ in range(4):
        buyer_ws.op("ack")
    assert drain(client.application) == {"sent": 1}
    assert [r["body"]["count"] for r in hook.received] == [4]
    assert [r.user_id for r in rows(client.application)] == [seller.id]  # never the sender


def test_an_online_recipient_gets_none(client, factory, chat, hook, ws_ready):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ws_ready(seller)
    chat.send(buyer, group_id, "在吗")
    assert drain(client.application) == {}
    assert hook.received == [] and rows(client.application) == []


def test_a_recipient_online_in_another_process_gets_none(clean_app, factory, chat, hook, redis_url):
    """Two apps on one Redis: the seller's socket is on one, the send and the worker on the other."""
    from uuid import uuid4
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    prefix = f"test-notify-{uuid4().hex}:"
    shared = {"REDIS_URL": redis_url, "PRESENCE_PREFIX": prefix}
    with tuned_app(clean_app, **shared) as socket_app, serve(socket_app) as server, \
            tuned_app(clean_app, **shared, **{k: clean_app.config[k] for k in (
                "NOTIFIER", "NOTIFY_WEBHOOK_URL", "NOTIFY_WEBHOOK_SECRET", "NOTIFY_DELAY_S")}) as worker_app:
        ws = WsClient(server.ws_url, seller.token)
        try:
            ws.hello()
            assert wait_until(lambda: worker_app.extensions["presence"].is_online(seller.id), timeout=10)
            ChatHelper(worker_app.test_client(), factory).send(buyer, group_id, "在吗")
            assert [r.user_id for r in rows(worker_app)] == [seller.id]  # not here: queued
            assert drain(worker_app) == {"online": 1}
        finally:
            ws.close()
        assert wait_until(lambda: not worker_app.extensions["presence"].is_online(seller.id), timeout=10)
        ChatHelper(worker_app.test_client(), factory).send(buyer, group_id, "人呢")
        assert drain(worker_app) == {"sent": 1}
    assert len(hook.received) == 1


def test_none_for_who_read_muted_or_blocked_before_it_went_out(client, factory, chat, hook):
    seller, reader, muter, blocked_buyer = (factory.user() for _ in range(4))
    read, muted, blocked = (chat.item_group(buyer, seller) for buyer in (reader, muter, blocked_buyer))
    for buyer, group_id in ((reader, read), (muter, muted), (blocked_buyer, blocked)):
        chat.send(buyer, group_id, "在吗")
    assert client.post(f"{API}/groups/{read}/read", json={"seq": 1}, headers=seller.headers).status_code == 204
    assert client.put(f"{API}/conversations/{muted}", json={"muted": True}, headers=seller.headers).status_code == 200
    chat.block(seller, blocked_buyer)
    assert drain(client.application) == {"read": 1, "muted": 1, "blocked": 1}
    assert hook.received == []


def test_a_muted_chat_queues_nothing_and_a_recipient_online_before_the_send_none(client, factory, chat, hook, ws_ready):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    client.put(f"{API}/conversations/{group_id}", json={"muted": True}, headers=seller.headers)
    chat.send(buyer, group_id, "在吗")
    assert rows(client.application) == []
    other = chat.item_group(buyer, seller)
    chat.send(buyer, other, "在吗")
    ws_ready(seller)  # comes online after the send, before the worker runs
    assert drain(client.application) == {"online": 1}
    assert hook.received == []


def test_webhook_failures_are_retried_with_backoff_and_4xx_is_given_up(client, factory, chat, hook):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    hook.statuses = [503, 500]
    chat.send(buyer, group_id, "在吗")
    now = utcnow()
    assert drain(client.application, now=now) == {"retrying": 1}
    assert drain(client.application, now=now + timedelta(seconds=4)) == {}  # backoff 5 s
    assert drain(client.application, now=now + timedelta(seconds=6)) == {"retrying": 1}
    assert drain(client.application, now=now + timedelta(seconds=16)) == {"sent": 1}  # then 10 s
    assert len({r["headers"]["x-paipai-delivery"] for r in hook.received}) == 1 and len(hook.received) == 3

    hook.statuses = [500, 500, 500]
    other = chat.item_group(buyer, seller)
    chat.send(buyer, other, "在吗")
    later = now + timedelta(seconds=20)
    assert drain(client.application, now=later) == {"retrying": 1}
    assert drain(client.application, now=later + timedelta(seconds=6)) == {"retrying": 1}
    assert drain(client.application, now=later + timedelta(seconds=30)) == {"failed": 1}  # NOTIFY_MAX_ATTEMPTS 3

    hook.statuses = [400]
    third = chat.item_group(buyer, seller)
    chat.send(buyer, third, "在吗")
    assert drain(client.application, now=later + timedelta(seconds=60)) == {"failed": 1}


def test_a_killed_worker_loses_nothing(client, factory, chat, hook, tmp_path):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "在吗")
    with WebhookReceiver() as stuck:
        stuck.hang.set()  # takes the request and never answers: the worker is mid-send when killed
        env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": client.application.config["DATABASE_URL"],
               "INSTANCE_DIR": str(tmp_path), "NOTIFIER": "webhook", "NOTIFY_WEBHOOK_URL": stuck.url,
               "NOTIFY_WEBHOOK_SECRET": SECRET, "NOTIFY_WEBHOOK_TIMEOUT_S": "60", "NOTIFY_LEASE_S": "60"}
        env.pop("REDIS_URL", None)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "notify-worker", "--once"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        try:
            assert wait_until(lambda: len(stuck.received) == 1, timeout=30)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    [row] = rows(client.application)
    assert row.lease_token is not None and row.due_at is not None  # claimed, never finished
    assert drain(client.application) == {}  # the dead worker's lease still holds
    assert drain(client.application, now=utcnow() + timedelta(seconds=61)) == {"sent": 1}
    assert [r["body"]["group_id"] for r in hook.received] == [group_id]
    assert drain(client.application, now=utcnow() + timedelta(seconds=120)) == {}


def test_a_message_arriving_while_one_is_sent_waits_for_the_window(client, factory, chat, hook):
    from chat.notify import queue
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "一")
    now = utcnow()
    app = client.application
    with app.app_context():
        with db.core_transaction() as conn:
            [item] = queue.claim(conn, now=now, limit=10, lease_s=60)
        chat.send(buyer, group_id, "二")  # lands while the worker holds the row
        with db.core_transaction() as conn:
            assert queue.finish(conn, item, outcome="sent", now=now, window_s=WINDOW_S)
            assert not queue.finish(conn, item, outcome="sent", now=now, window_s=WINDOW_S)  # lease gone
        db.remove()
    [row] = rows(app)
    assert row.pending_count == 1 and row.due_at == now + timedelta(seconds=WINDOW_S)
    assert drain(app, now=now + timedelta(seconds=WINDOW_S - 1)) == {}
    assert drain(app, now=now + timedelta(seconds=WINDOW_S)) == {"sent": 1}
    assert [r["body"]["count"] for r in hook.received] == [1]


def test_workers_claim_disjoint_rows(client, factory, chat, hook):
    """Leases keep claimed rows from other workers; on PostgreSQL a claim still in its transaction is
    skipped (SKIP LOCKED), not waited for."""
    from chat.notify import queue
    seller = factory.user()
    for _ in range(3):
        buyer = factory.user()
        chat.send(buyer, chat.item_group(buyer, seller), "在吗")
    app, now = client.application, utcnow()
    with app.app_context():
        engine = db.engine
        with engine.connect() as first, engine.connect() as second:
            with first.begin():
                mine = queue.claim(first, now=now, limit=2, lease_s=60)
                if engine.dialect.name == "postgresql":  # the first claim is not committed yet
                    with second.begin():
                        theirs = queue.claim(second, now=now, limit=10, lease_s=60)
            if engine.dialect.name != "postgresql":
                with second.begin():
                    theirs = queue.claim(second, now=now, limit=10, lease_s=60)
            with first.begin():
                assert queue.claim(first, now=now, limit=10, lease_s=60) == []
        db.remove()
    assert len(mine) == 2 and len(theirs) == 1
    assert {(c.user_id, c.group_id) for c in mine}.isdisjoint((c.user_id, c.group_id) for c in theirs)


def test_log_and_off(client, factory, chat, caplog):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    app = client.application
    saved = app.config["NOTIFIER"], app.config["NOTIFY_DELAY_S"]
    try:
        app.config.update(NOTIFIER="off")
        chat.send(buyer, group_id, "关闭时")
        assert rows(app) == []
        app.config.update(NOTIFIER="log", NOTIFY_DELAY_S=0)
        chat.send(buyer, group_id, "在吗")
        with caplog.at_level(logging.INFO, logger="chat.notify.channels"):
            assert drain(app) == {"sent": 1}
        assert f"user {seller.id}, group {group_id}" in caplog.text and "在吗" not in caplog.text
    finally:
        app.config.update(NOTIFIER=saved[0], NOTIFY_DELAY_S=saved[1])


def test_the_worker_thread_started_with_the_app_sends(clean_app, factory, chat, hook):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "在吗")
    with tuned_app(clean_app, NOTIFIER="webhook", NOTIFY_WORKER=True, NOTIFY_POLL_S=0.05, NOTIFY_DELAY_S=0,
                   NOTIFY_WEBHOOK_URL=hook.url, NOTIFY_WEBHOOK_SECRET=SECRET) as app:
        try:
            assert wait_until(lambda: len(hook.received) == 1, timeout=30)
        finally:
            app.extensions["notify_worker"].set()
    assert hook.received[0]["body"]["user_id"] == seller.id
