"""The audit log: every admin action is recorded in its transaction; GET /admin/audit lists and filters them."""
from __future__ import annotations

from tests.factories import set_listing
from tests.marketplace.admin_helpers import API, audit, ban, get, post, report

AUDIT_KEYS = {"id", "actor", "action", "target_type", "target_id", "details", "created_at"}


def test_every_admin_action_is_audited_newest_first(client, factory):
    admin, seller, reporter = factory.admin(), factory.user(), factory.user()
    pending = factory.listing(seller)["id"]
    rejected = factory.listing(seller)["id"]
    set_listing(client.application, pending, status="pending_review")
    set_listing(client.application, rejected, status="pending_review")
    post(client, admin, f"/admin/listings/{pending}/approve")
    post(client, admin, f"/admin/listings/{rejected}/reject", {"reason": "描述不清"})
    post(client, admin, f"/admin/listings/{pending}/takedown", {"reason": "违禁品"})
    post(client, admin, f"/admin/listings/{pending}/restore")
    report_id = report(client, reporter, "user", seller.id)["id"]
    post(client, admin, f"/admin/reports/{report_id}/resolve", {"action": "dismiss", "note": "正常"})
    ban(client, admin, seller.id, reason="广告")
    post(client, admin, f"/admin/users/{seller.id}/unban")

    entries = audit(client, admin)
    assert [(e["action"], e["target_type"], e["target_id"]) for e in entries] == [
        ("user.unban", "user", seller.id),
        ("user.ban", "user", seller.id),
        ("report.resolve", "report", report_id),
        ("listing.restore", "listing", pending),
        ("listing.takedown", "listing", pending),
        ("listing.reject", "listing", rejected),
        ("listing.approve", "listing", pending),
    ]
    assert all(set(e) == AUDIT_KEYS for e in entries)
    assert entries[0]["actor"] == {"id": admin.id, "nickname": admin.username, "avatar_url": None}
    details = {e["action"]: e["details"] for e in entries}
    assert details["user.ban"] == {"reason": "广告", "until": None, "revoked_tokens": 1}
    assert details["user.unban"] == {"reason": "广告", "until": None}
    assert details["listing.reject"] == {"from": "pending_review", "to": "rejected", "reason": "描述不清"}
    assert details["listing.takedown"] == {"from": "active", "to": "removed", "reason": "违禁品"}
    assert details["listing.restore"] == {"from": "removed", "to": "active"}
    assert details["report.resolve"] == {"action": "dismiss", "note": "正常", "target_type": "user",
                                         "target_id": seller.id, "resolved_report_ids": [report_id]}


def test_a_resolution_audits_the_action_it_took_too(client, factory):
    admin, reporter, seller = factory.admin(), factory.user(), factory.user()
    listing_id = factory.listing(seller)["id"]
    report_id = report(client, reporter, "listing", listing_id)["id"]
    post(client, admin, f"/admin/reports/{report_id}/resolve", {"action": "ban", "note": "诈骗"})
    ban_entry = audit(client, admin, target_type="user")[0]
    resolve_entry = audit(client, admin, action="report.resolve")[0]
    assert ban_entry["action"] == "user.ban" and ban_entry["details"]["report_id"] == report_id
    assert resolve_entry["details"]["action"] == "ban"


def test_filters_and_paging(client, factory):
    first, second, user = factory.admin(), factory.admin(), factory.user()
    ban(client, first, user.id)
    post(client, first, f"/admin/users/{user.id}/unban")
    ban(client, second, user.id)
    assert [e["action"] for e in audit(client, first, actor_id=second.id)] == ["user.ban"]
    assert [e["actor"]["id"] for e in audit(client, first, action="user.ban")] == [second.id, first.id]
    assert audit(client, first, action="listing.approve") == []
    assert len(audit(client, first, target_type="user", target_id=user.id)) == 3
    page = get(client, first, "/admin/audit", page=2, page_size=2)
    assert page["total"] == 3 and [e["action"] for e in page["items"]] == ["user.ban"]
    r = client.get(f"{API}/admin/audit?actor_id=abc", headers=first.headers)
    assert r.status_code == 400


def test_refused_actions_leave_no_entry(client, factory):
    admin, seller = factory.admin(), factory.user()
    listing_id = factory.listing(seller)["id"]
    assert client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers).status_code == 409
    assert client.post(f"{API}/admin/users/{seller.id}/unban", headers=admin.headers).status_code == 409
    assert client.post(f"{API}/admin/users/{admin.id}/ban", json={"reason": "x"},
                       headers=admin.headers).status_code == 403
    assert audit(client, admin) == []
