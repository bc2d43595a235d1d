"""The report queue: filters, and resolving with dismiss, takedown or ban (every open report on the target alike)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from tests.marketplace.admin_helpers import API, error_code, get, post, report
from tests.support.concurrency import concurrently


def _queue(client, admin, **params) -> list[int]:
    return [r["id"] for r in get(client, admin, "/admin/reports", **params)["items"]]


def _resolve(client, admin, report_id: int, status: int = 200, **body) -> dict:
    return post(client, admin, f"/admin/reports/{report_id}/resolve", body, status=status)


def test_queue_filters_by_status_and_target_open_oldest_first(client, factory):
    admin, a, b, seller = factory.admin(), factory.user(), factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    on_user = report(client, a, "user", seller.id)["id"]
    on_listing = report(client, a, "listing", listing_id)["id"]
    again = report(client, b, "listing", listing_id)["id"]
    _resolve(client, admin, on_user, action="dismiss", note="正常交易")
    assert _queue(client, admin, status="open") == [on_listing, again]
    assert _queue(client, admin, status="resolved") == [on_user]
    assert _queue(client, admin) == [again, on_listing, on_user]
    assert _queue(client, admin, target_type="listing", target_id=listing_id) == [again, on_listing]
    assert _queue(client, admin, target_type="user") == [on_user]
    for bad in ({"status": "closed"}, {"target_type": "group"}, {"target_id": 0}):
        r = client.get(f"{API}/admin/reports", query_string=bad, headers=admin.headers)
        assert r.status_code == 400


def test_dismiss_closes_only_that_report(client, factory):
    admin, a, b, seller = factory.admin(), factory.user(), factory.user(), factory.user()
    first, second = report(client, a, "user", seller.id)["id"], report(client, b, "user", seller.id)["id"]
    body = _resolve(client, admin, first, action="dismiss", note="证据不足")
    assert body["status"] == "resolved" and body["resolution"] == "dismiss"
    assert body["resolution_note"] == "证据不足" and body["resolved_by_id"] == admin.id and body["resolved_at"]
    assert _queue(client, admin, status="open") == [second]
    assert client.get(f"{API}/me", headers=seller.headers).status_code == 200


def test_takedown_removes_the_listing_and_resolves_every_open_report_on_it(client, factory):
    admin, a, b, seller = factory.admin(), factory.user(), factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    first, second = report(client, a, "listing", listing_id, "假货")["id"], report(client, b, "listing", listing_id)["id"]
    body = _resolve(client, admin, second, action="takedown")
    assert body["resolution"] == "takedown" and body["resolution_note"] == ""
    listing = get(client, seller, f"/listings/{listing_id}")
    assert listing["status"] == "removed" and listing["review_note"] == "虚假信息"  # the report's reason
    assert _queue(client, admin, status="open") == []
    assert {r["resolution"] for r in get(client, admin, "/admin/reports")["items"]} == {"takedown"}
    r = client.post(f"{API}/admin/reports/{first}/resolve", json={"action": "dismiss"}, headers=admin.headers)
    assert r.status_code == 409 and error_code(r) == "report_resolved"


def test_ban_from_a_listing_report_bans_its_seller_with_the_note_as_reason(client, factory):
    admin, reporter, seller = factory.admin(), factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    report_id = report(client, reporter, "listing", listing_id)["id"]
    until = (utcnow() + timedelta(days=3)).isoformat()
    _resolve(client, admin, report_id, action="ban", note="多次发布假货", until=until)
    user = get(client, admin, "/admin/users", q=seller.username)["items"][0]
    assert user["status"] == "banned" and user["ban_reason"] == "多次发布假货" and user["banned_until"]
    assert client.get(f"{API}/me", headers=seller.headers).status_code == 401
    assert get(client, admin, f"/listings/{listing_id}")["status"] == "active"  # hidden by the ban, not changed
    assert client.get(f"{API}/listings/{listing_id}").status_code == 404


def test_takedown_is_only_for_listings_and_a_failed_action_resolves_nothing(client, factory):
    admin, reporter, seller = factory.admin(), factory.user(), factory.user()
    report_id = report(client, reporter, "user", seller.id)["id"]
    r = client.post(f"{API}/admin/reports/{report_id}/resolve", json={"action": "takedown"}, headers=admin.headers)
    assert r.status_code == 400 and "action" in r.get_json()["error"]["details"]["fields"]
    other_admin = factory.admin()
    on_admin = report(client, reporter, "user", other_admin.id)["id"]
    r = client.post(f"{API}/admin/reports/{on_admin}/resolve", json={"action": "ban"}, headers=admin.headers)
    assert r.status_code == 403 and error_code(r) == "cannot_ban_admin"
    assert _queue(client, admin, status="open") == [report_id, on_admin]
    assert get(client, admin, "/admin/audit")["total"] == 0


@pytest.mark.parametrize("body", [{}, {"action": "delete"}, {"action": "dismiss", "note": "x" * 501},
                                  {"action": "ban", "until": "2020-01-01T00:00:00Z"}])
def test_bad_resolutions_are_400(client, factory, body):
    admin, reporter, seller = factory.admin(), factory.user(), factory.user()
    report_id = report(client, reporter, "user", seller.id)["id"]
    r = client.post(f"{API}/admin/reports/{report_id}/resolve", json=body, headers=admin.headers)
    assert r.status_code == 400 and error_code(r) == "validation_error"
    assert _queue(client, admin, status="open") == [report_id]


def test_resolving_an_unknown_report_is_404(client, factory):
    r = client.post(f"{API}/admin/reports/999999/resolve", json={"action": "dismiss"}, headers=factory.admin().headers)
    assert r.status_code == 404


def test_concurrent_resolutions_of_reports_on_one_listing_act_once(client, factory):
    admin, seller = factory.admin(), factory.user()
    listing_id = factory.listing(seller)["id"]
    ids = [report(client, factory.user(), "listing", listing_id)["id"] for _ in range(4)]
    calls = [("POST", f"/admin/reports/{i}/resolve", admin.headers, {"action": "takedown"}) for i in ids]
    assert sorted(concurrently(client, calls)) == [200, 409, 409, 409]
    assert get(client, admin, f"/listings/{listing_id}")["status"] == "removed"
    assert [e["action"] for e in get(client, admin, "/admin/audit")["items"]] == ["report.resolve", "listing.takedown"]
