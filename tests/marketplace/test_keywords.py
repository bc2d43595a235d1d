"""Keyword rules: the admin API (GET/PUT /admin/keywords), validation, and listings sent to review."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from marketplace.models import AuditEntry
from marketplace.moderation.rules import MAX_RULES, Matcher, Rule, fold

API = "/api/v1"


def put_rules(client, admin, rules, status=200):
    r = client.put(f"{API}/admin/keywords", json={"rules": rules}, headers=admin.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def word(pattern, action="block", **extra):
    return {"pattern": pattern, "kind": "word", "action": action, **extra}


def test_keyword_routes_are_for_admins_only(client, factory):
    user = factory.user()
    for method in ("get", "put"):
        assert getattr(client, method)(f"{API}/admin/keywords", json={"rules": []}).status_code == 401
        r = getattr(client, method)(f"{API}/admin/keywords", json={"rules": []}, headers=user.headers)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_rule_set_starts_empty_and_is_replaced_whole_in_order(client, factory):
    admin = factory.admin()
    empty = client.get(f"{API}/admin/keywords", headers=admin.headers).get_json()
    assert empty == {"rules": [], "count": 0, "updated_at": None}
    put_rules(client, admin, [word("代开发票"), {"pattern": r"加\s*群", "kind": "regex", "action": "mask"}])
    body = put_rules(client, admin, [word("高仿", "review"), word("刷单", applies_to=["message"])])
    assert body["count"] == 2 and body["updated_at"]
    assert body["rules"] == [
        {"pattern": "高仿", "kind": "word", "action": "review", "applies_to": ["listing"]},
        {"pattern": "刷单", "kind": "word", "action": "block", "applies_to": ["message"]},
    ]
    assert client.get(f"{API}/admin/keywords", headers=admin.headers).get_json() == body


def test_replacing_the_rules_is_audit_logged(client, factory):
    admin = factory.admin()
    put_rules(client, admin, [word("刷单")])
    put_rules(client, admin, [])
    with client.application.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.target_type) for e in entries] == [
        (admin.id, "keywords.replace", "keyword_rules")] * 2
    assert entries[0].details["count"] == 1 and entries[1].details == {"count": 0, "previous_count": 1, "rules": []}


@pytest.mark.parametrize("pattern, problem", [
    ("(a+", "RE2"),  # not a regex at all
    (r"(\w)\1", "backreferences"),  # needs backtracking: RE2 refuses it
    (r"foo(?=bar)", "lookarounds"),
    ("a*", "empty text"),  # would match everywhere
    ("x|", "empty text"),
])
def test_a_bad_regex_is_400_naming_the_rule_and_changes_nothing(client, factory, pattern, problem):
    admin = factory.admin()
    put_rules(client, admin, [word("刷单")])
    body = put_rules(client, admin, [word("高仿"), {"pattern": pattern, "kind": "regex", "action": "block"}],
                     status=400)
    error = body["error"]
    assert error["code"] == "validation_error" and error["details"]["rule"] == 1
    assert problem in error["message"] and "pattern" in error["details"]["fields"]["rules"]["1"]
    assert [r["pattern"] for r in client.get(f"{API}/admin/keywords", headers=admin.headers)
            .get_json()["rules"]] == ["刷单"]


@pytest.mark.parametrize("rules, where", [
    ([{"pattern": "x" * 201, "kind": "word", "action": "block"}], "pattern"),
    ([{"pattern": "刷单", "kind": "phrase", "action": "block"}], "kind"),
    ([{"pattern": "刷单", "kind": "word", "action": "delete"}], "action"),
    ([{"pattern": "刷单", "kind": "word", "action": "block", "applies_to": []}], "applies_to"),
    ([{"pattern": "刷单", "kind": "word", "action": "block", "applies_to": ["profile"]}], "applies_to"),
    ([{"pattern": "刷单", "kind": "word", "action": "block", "extra": 1}], "extra"),
])
def test_malformed_rules_are_400_naming_the_field(client, factory, rules, where):
    body = put_rules(client, factory.admin(), rules, status=400)
    assert where in str(body["error"]["details"])


def test_rule_set_rules_cap_blank_duplicates_and_review_on_messages(client, factory):
    admin = factory.admin()
    too_many = [word(f"词{i}") for i in range(MAX_RULES + 1)]
    assert "rules" in str(put_rules(client, admin, too_many, status=400)["error"]["details"])
    assert put_rules(client, admin, [word("  ")], status=400)["error"]["details"]["rule"] == 0
    dup = put_rules(client, admin, [word("VX"), word("ｖｘ")], status=400)["error"]
    assert dup["details"]["rule"] == 1 and "twice" in dup["message"]
    review = put_rules(client, admin, [word("高仿", "review", applies_to=["listing", "message"])], status=400)
    assert "applies_to" in review["error"]["details"]["fields"]["rules"]["0"]


def test_matcher_folds_width_and_case_and_masks_per_character():
    m = Matcher.build([Rule("vx", "word", "mask", ("message",)), Rule(r"\d{3}-\d{4}", "regex", "mask", ("message",)),
                       Rule("刷单", "word", "block", ("message",)), Rule("高仿", "word", "review", ("listing",))])
    assert m.masked("加我ＶＸ 123-4567 谢谢") == "加我** ******** 谢谢"
    assert m.blocks("可以帮忙刷单吗") and not m.blocks("正常聊天")
    assert m.flags_listing("全新", "高仿包包") and not m.flags_listing("刷单", "")
    assert fold("ＡＢＣ１２３　") == "ABC123 "


def test_a_catastrophic_pattern_for_backtracking_engines_is_accepted_and_matches_in_linear_time():
    # `(a+)+$` takes exponential time in Python's re on "aaaa…b"; RE2 answers at once.
    m = Matcher.build([Rule("(a+)+$", "regex", "block", ("message",))])
    assert not m.blocks("a" * 5000 + "b!")
    assert m.blocks("xx aaa")


def test_listing_matching_a_rule_is_created_pending_review(client, factory):
    admin, seller = factory.admin(), factory.user()
    put_rules(client, admin, [word("高仿", "review"), word("发票", "block", applies_to=["listing"]),
                              word("私聊", "mask", applies_to=["message"])])
    assert factory.listing(seller, title="高仿名牌包")["status"] == "pending_review"
    assert factory.listing(seller, description="可开ＦＡ发票")["status"] == "pending_review"
    assert factory.listing(seller, title="九成新台灯", description="私聊")["status"] == "active"
    search = client.get(f"{API}/listings", query_string={"q": "高仿"}).get_json()
    assert search["total"] == 0


def test_an_edit_that_matches_a_rule_puts_the_listing_back_in_review(client, factory):
    admin, seller = factory.admin(), factory.user()
    listing = factory.listing(seller, title="九成新台灯")
    put_rules(client, admin, [word("高仿", "review")])
    r = client.patch(f"{API}/listings/{listing['id']}", json={"price_cents": 100}, headers=seller.headers)
    assert r.get_json()["status"] == "active"  # no text changed
    r = client.patch(f"{API}/listings/{listing['id']}", json={"description": "其实是高仿"}, headers=seller.headers)
    assert r.status_code == 200 and r.get_json()["status"] == "pending_review"
    assert client.get(f"{API}/listings/{listing['id']}").status_code == 404


def test_rules_apply_at_once_after_a_replace(client, factory):
    admin, seller = factory.admin(), factory.user()
    assert factory.listing(seller, title="高仿包")["status"] == "active"  # the empty set is cached now
    put_rules(client, admin, [word("高仿", "review")])
    assert factory.listing(seller, title="高仿包")["status"] == "pending_review"
    put_rules(client, admin, [])
    assert factory.listing(seller, title="高仿包")["status"] == "active"
