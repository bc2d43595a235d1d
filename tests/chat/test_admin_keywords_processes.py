"""Keyword rules change in every process without a restart: two app instances on one database share a
real Redis (in this process, then as two gunicorn servers); a replace through one clears the other's
compiled rules through the broker."""
from __future__ import annotations

import os

import pytest

from chat.keyword_sync import CHANNEL
from marketplace.moderation.keywords import rule_cache
from marketplace.users.services import register_user
from tests.chat.broker_support import RedisServer, wait_until
from tests.chat.helpers import API
from tests.factories import PASSWORD
from tests.support.servers import GunicornServer, HttpApi, own_app, pg_database


def _send(app, actor, group_id: int, client_id: str, text: str):
    return app.test_client().post(f"{API}/groups/{group_id}/messages", headers=actor.headers,
                                  json={"client_id": client_id, "type": "txt", "body": {"text": text}})


def test_a_rule_replaced_in_one_process_applies_in_another_without_a_restart(
        tmp_path, database_url, redis_url, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    with own_app(tmp_path / "a", database_url, REDIS_URL=redis_url) as app_a, \
            own_app(tmp_path / "b", database_url, REDIS_URL=redis_url) as app_b:
        cache_b = rule_cache(app_b)
        assert wait_until(cache_b.live, timeout=10), f"{CHANNEL} never became live in process B"
        assert _send(app_b, buyer, group_id, "before", "一起刷单吧").status_code == 201
        assert cache_b.cached  # B holds the (empty) rule set in memory now

        r = app_a.test_client().put(f"{API}/admin/keywords", headers=admin.headers, json={
            "rules": [{"pattern": "刷单", "kind": "word", "action": "block"},
                      {"pattern": "傻瓜", "kind": "word", "action": "mask"}]})
        assert r.status_code == 200, r.get_json()

        assert wait_until(lambda: not cache_b.cached, timeout=10), "process B kept its old rules"
        refused = _send(app_b, buyer, group_id, "after", "一起刷单吧")
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "content_blocked"
        masked = _send(app_b, buyer, group_id, "masked", "傻瓜")
        assert masked.status_code == 201 and masked.get_json()["body"] == {"text": "**"}
        assert cache_b.cached  # read once more, then kept again


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="two gunicorn processes share a PostgreSQL schema: set TEST_DATABASE_URL")
def test_a_rule_replaced_through_one_gunicorn_process_blocks_sends_through_another(tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, pg_database() as database_url:
        with own_app(tmp_path / "setup", database_url) as setup, setup.app_context():
            register_user(username="kwadmin", password=PASSWORD, nickname=None, role="admin")
        with GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="a") as a, \
                GunicornServer(tmp_path, database_url=database_url, redis_url=redis_server.url, name="b") as b:
            api_a, api_b = HttpApi(a.url), HttpApi(b.url)
            admin = api_a.expect(200, "POST", "/token", {"grant_type": "password", "username": "kwadmin",
                                                         "password": PASSWORD})["access_token"]
            seller, buyer = api_a.user(), api_a.user()
            group_id = api_a.inquiry(buyer, api_a.listing(seller))
            api_b.send(buyer, group_id, "warm", "一起刷单吧")  # B has compiled the (empty) rule set
            api_a.expect(200, "PUT", "/admin/keywords",
                         {"rules": [{"pattern": "刷单", "kind": "word", "action": "block"}]}, admin)
            attempts = iter(range(1000))

            def refused_by_b() -> bool:
                status, body = api_b.call("POST", f"/groups/{group_id}/messages", {
                    "client_id": f"try-{next(attempts)}", "type": "txt", "body": {"text": "一起刷单吧"}},
                    buyer.token)
                return status == 403 and body["error"]["code"] == "content_blocked"

            assert wait_until(refused_by_b, timeout=10, interval=0.05), b.log_tail()
