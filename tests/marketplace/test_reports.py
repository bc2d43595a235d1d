"""POST /reports: what can be reported, by whom, and one open report per reporter and target."""
from __future__ import annotations

import pytest

from tests.factories import set_listing
from tests.marketplace.admin_helpers import API, error_code, get, post, report
from tests.support.concurrency import concurrently


def test_report_a_user_and_a_listing(client, factory):
    reporter, seller = factory.user(), factory.user(nickname="骗子小王")
    listing = factory.listing(seller, title="全新 iPhone 只要 100 元")
    body = report(client, reporter, "user", seller.id, reason="  要求线下转账  ")
    assert set(body) == {"id", "target_type", "target_id", "reason", "status", "created_at"}
    assert body["target_type"] == "user" and body["target_id"] == seller.id
    assert body["reason"] == "要求线下转账" and body["status"] == "open"
    assert report(client, reporter, "listing", listing["id"])["target_type"] == "listing"
    admin = factory.admin()
    queue = get(client, admin, "/admin/reports", status="open")["items"]
    assert [(r["target_type"], r["target_owner_id"], r["target_summary"]) for r in queue] == [
        ("user", seller.id, f"骗子小王 (@{seller.username})"),
        ("listing", seller.id, "全新 iPhone 只要 100 元"),
    ]
    assert queue[0]["reporter"]["id"] == reporter.id and queue[1]["target_context"] == {"status": "active"}


@pytest.mark.parametrize("status", ["removed", "pending_review", "rejected"])
def test_a_listing_the_reporter_cannot_see_is_404(client, factory, status):
    reporter, seller = factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    set_listing(client.application, listing_id, status=status)
    r = client.post(f"{API}/reports", json={"target_type": "listing", "target_id": listing_id, "reason": "x"},
                    headers=reporter.headers)
    assert r.status_code == 404 and error_code(r) == "not_found"


@pytest.mark.parametrize("target_type", ["user", "listing", "message"])
def test_unknown_targets_are_404(client, factory, target_type):
    r = client.post(f"{API}/reports", json={"target_type": target_type, "target_id": 999999, "reason": "x"},
                    headers=factory.user().headers)
    assert r.status_code == 404


def test_nobody_reports_themselves_or_their_own_listing(client, factory):
    user = factory.user()
    listing_id = factory.listing(user)["id"]
    for target_type, target_id in (("user", user.id), ("listing", listing_id)):
        r = client.post(f"{API}/reports", json={"target_type": target_type, "target_id": target_id, "reason": "x"},
                        headers=user.headers)
        assert r.status_code == 403 and error_code(r) == "cannot_report_self"


@pytest.mark.parametrize("body,field", [
    ({"target_type": "group", "target_id": 1, "reason": "x"}, "target_type"),
    ({"target_type": "user", "target_id": "1", "reason": "x"}, "target_id"),
    ({"target_type": "user", "target_id": 0, "reason": "x"}, "target_id"),
    ({"target_type": "user", "target_id": 1, "reason": " "}, "reason"),
    ({"target_type": "user", "target_id": 1}, "reason"),
    ({"target_type": "user", "target_id": 1, "reason": "x", "note": "y"}, "note"),
])
def test_bad_reports_are_400(client, factory, body, field):
    r = client.post(f"{API}/reports", json=body, headers=factory.user().headers)
    assert r.status_code == 400 and field in r.get_json()["error"]["details"]["fields"]


def test_one_open_report_per_reporter_and_target(client, factory):
    reporter, other, seller = factory.user(), factory.user(), factory.user()
    first = report(client, reporter, "user", seller.id)
    r = client.post(f"{API}/reports", json={"target_type": "user", "target_id": seller.id, "reason": "又来了"},
                    headers=reporter.headers)
    assert r.status_code == 409 and error_code(r) == "report_exists"
    assert r.get_json()["error"]["details"] == {"report_id": first["id"], "request_id": r.headers["X-Request-ID"]}
    report(client, other, "user", seller.id)  # someone else may report the same target
    # Once resolved, the same reporter may report it again.
    admin = factory.admin()
    post(client, admin, f"/admin/reports/{first['id']}/resolve", {"action": "dismiss"})
    assert report(client, reporter, "user", seller.id)["id"] != first["id"]


def test_concurrent_identical_reports_make_exactly_one(client, factory):
    reporter, seller = factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    body = {"target_type": "listing", "target_id": listing_id, "reason": "假货"}
    codes = concurrently(client, [("POST", "/reports", reporter.headers, body)] * 8)
    assert sorted(codes) == [201] + [409] * 7
    admin = factory.admin()
    assert get(client, admin, "/admin/reports")["total"] == 1
