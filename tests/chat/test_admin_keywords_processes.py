"""Keyword rules change in every process without a restart: two app instances on one database share a
real Redis; a replace through one clears the other's compiled rules through the broker."""
from __future__ import annotations

from chat.keyword_sync import CHANNEL
from marketplace.moderation.keywords import rule_cache
from tests.chat.broker_support import wait_until
from tests.chat.helpers import API
from tests.support.servers import own_app


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
