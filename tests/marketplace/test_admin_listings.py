"""Admin listings: the review queue and filters, approve, reject (seen by the seller, resubmitted by an
edit), takedown and restore to where the takedown found the listing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import db, utcnow
from marketplace.models import Claim
from marketplace.signals import listing_status_changed
from tests.factories import set_listing
from tests.marketplace.admin_helpers import API, error_code, get, post, report


def _admin_list(client, admin, **params) -> list[int]:
    return [item["id"] for item in get(client, admin, "/admin/listings", **params)["items"]]


def _pending(client, factory, seller, waited_minutes: int) -> int:
    listing_id = factory.listing(seller)["id"]
    set_listing(client.application, listing_id, status="pending_review",
                updated_at=utcnow() - timedelta(minutes=waited_minutes))
    return listing_id


def test_review_queue_is_oldest_first_and_other_statuses_newest_first(client, factory):
    admin, seller = factory.admin(), factory.user()
    waited_10, waited_30, waited_20 = (_pending(client, factory, seller, m) for m in (10, 30, 20))
    active = [factory.listing(seller)["id"] for _ in range(2)]
    assert _admin_list(client, admin, status="pending_review") == [waited_30, waited_20, waited_10]
    assert _admin_list(client, admin, status="active") == active[::-1]
    assert _admin_list(client, admin) == [*active[::-1], waited_20, waited_30, waited_10]  # by creation
    body = get(client, admin, "/admin/listings", status="pending_review", page_size=1, page=2)
    assert [i["id"] for i in body["items"]] == [waited_20] and body["total"] == 3
    assert body["items"][0]["removed_from"] is None
    r = client.get(f"{API}/admin/listings?status=lost", headers=admin.headers)
    assert r.status_code == 400 and error_code(r) == "validation_error"


def test_reported_and_seller_filters(client, factory):
    admin, seller, other, reporter = factory.admin(), factory.user(), factory.user(), factory.user()
    reported, quiet = factory.listing(seller)["id"], factory.listing(seller)["id"]
    elsewhere = factory.listing(other)["id"]
    report(client, reporter, "listing", reported)
    assert _admin_list(client, admin, reported="true") == [reported]
    assert _admin_list(client, admin, reported="false") == [elsewhere, quiet]
    assert _admin_list(client, admin, seller_id=seller.id) == [quiet, reported]
    # Once the report is resolved, the listing leaves the reported filter.
    report_id = get(client, admin, "/admin/reports")["items"][0]["id"]
    post(client, admin, f"/admin/reports/{report_id}/resolve", {"action": "dismiss"})
    assert _admin_list(client, admin, reported="true") == []


def test_approve_makes_a_pending_listing_active_and_searchable(client, factory):
    admin, seller = factory.admin(), factory.user()
    listing_id = _pending(client, factory, seller, 5)
    assert client.get(f"{API}/listings/{listing_id}").status_code == 404
    body = post(client, admin, f"/admin/listings/{listing_id}/approve")
    assert body["status"] == "active" and body["review_note"] is None
    assert [i["id"] for i in client.get(f"{API}/listings").get_json()["items"]] == [listing_id]


@pytest.mark.parametrize("status", ["active", "removed", "rejected", "sold"])
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_a_pending_listing_can_be_approved_or_rejected(client, factory, status, action):
    admin, seller = factory.admin(), factory.user()
    listing_id = factory.listing(seller)["id"]
    set_listing(client.application, listing_id, status=status)
    r = client.post(f"{API}/admin/listings/{listing_id}/{action}", json={"reason": "x"} if action == "reject" else None,
                    headers=admin.headers)
    assert r.status_code == 409 and error_code(r) == "invalid_transition"
    assert get(client, admin, f"/listings/{listing_id}")["status"] == status


def test_a_rejection_reason_reaches_the_seller_whose_edit_resubmits_for_review(client, factory):
    admin, seller, stranger = factory.admin(), factory.user(), factory.user()
    listing_id = _pending(client, factory, seller, 5)
    body = post(client, admin, f"/admin/listings/{listing_id}/reject", {"reason": "  图片与描述不符  "})
    assert body["status"] == "rejected" and body["review_note"] == "图片与描述不符"
    mine = get(client, seller, f"/listings/{listing_id}")
    assert mine["status"] == "rejected" and mine["review_note"] == "图片与描述不符"
    assert client.get(f"{API}/listings/{listing_id}", headers=stranger.headers).status_code == 404
    assert _admin_list(client, admin, status="pending_review") == []
    r = client.patch(f"{API}/listings/{listing_id}", json={"title": "实拍图已更新"}, headers=seller.headers)
    assert r.status_code == 200 and r.get_json()["status"] == "pending_review" and r.get_json()["review_note"] is None
    assert _admin_list(client, admin, status="pending_review") == [listing_id]
    assert post(client, admin, f"/admin/listings/{listing_id}/approve")["status"] == "active"


@pytest.mark.parametrize("path", ["reject", "takedown"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "x", "more": 1}])
def test_reject_and_takedown_need_a_reason(client, factory, path, body):
    admin, seller = factory.admin(), factory.user()
    listing_id = _pending(client, factory, seller, 5)
    r = client.post(f"{API}/admin/listings/{listing_id}/{path}", json=body, headers=admin.headers)
    assert r.status_code == 400 and error_code(r) == "validation_error"
    assert get(client, admin, f"/listings/{listing_id}")["status"] == "pending_review"


def test_unknown_listings_are_404(client, factory):
    admin = factory.admin()
    for path, body in (("approve", None), ("reject", {"reason": "x"}), ("takedown", {"reason": "x"}),
                       ("restore", None)):
        r = client.post(f"{API}/admin/listings/999999/{path}", json=body, headers=admin.headers)
        assert r.status_code == 404, path


def test_takedown_removes_the_listing_tells_the_seller_why_and_restore_undoes_it(client, factory):
    admin, seller = factory.admin(), factory.user()
    listing_id = factory.listing(seller)["id"]
    seen = []
    with listing_status_changed.connected_to(lambda _app, **kw: seen.append(kw)):
        body = post(client, admin, f"/admin/listings/{listing_id}/takedown", {"reason": "禁售商品"})
        assert body["status"] == "removed" and body["review_note"] == "禁售商品" and body["removed_from"] == "active"
        assert client.get(f"{API}/listings/{listing_id}").status_code == 404
        assert get(client, seller, f"/listings/{listing_id}")["review_note"] == "禁售商品"
        r = client.post(f"{API}/admin/listings/{listing_id}/takedown", json={"reason": "again"}, headers=admin.headers)
        assert r.status_code == 409 and error_code(r) == "invalid_transition"
        body = post(client, admin, f"/admin/listings/{listing_id}/restore")
        assert body["status"] == "active" and body["review_note"] is None and body["removed_from"] is None
    assert seen == [
        {"listing_id": listing_id, "old_status": "active", "new_status": "removed", "actor_id": admin.id},
        {"listing_id": listing_id, "old_status": "removed", "new_status": "active", "actor_id": admin.id},
    ]
    assert client.get(f"{API}/listings/{listing_id}").status_code == 200
    r = client.post(f"{API}/admin/listings/{listing_id}/restore", headers=admin.headers)
    assert r.status_code == 409 and error_code(r) == "invalid_transition"


@pytest.mark.parametrize("kind,before,after,keeps_buyer", [
    ("sale", "active", "active", False),
    ("sale", "reserved", "active", False),  # the reservation's offers were declined at takedown
    ("sale", "sold", "sold", True),
    ("donation", "given", "given", True),
    ("sale", "withdrawn", "withdrawn", False),
    ("sale", "pending_review", "pending_review", False),
    ("sale", "rejected", "pending_review", False),  # it never passed review: back to the queue
])
def test_restore_returns_the_listing_to_where_the_takedown_found_it(client, factory, kind, before, after,
                                                                    keeps_buyer):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    listing_id = factory.listing(seller, kind=kind)["id"]
    with_buyer = before in ("reserved", "sold", "given")
    set_listing(client.application, listing_id, status=before, buyer_id=buyer.id if with_buyer else None)
    assert post(client, admin, f"/admin/listings/{listing_id}/takedown", {"reason": "误判"})["removed_from"] == before
    body = post(client, admin, f"/admin/listings/{listing_id}/restore")
    assert body["status"] == after
    assert body["buyer_id"] == (buyer.id if keeps_buyer else None)


def test_a_donation_taken_down_declines_its_open_claims(client, factory):
    admin, giver, taker = factory.admin(), factory.user(), factory.user()
    listing_id = factory.donation(giver)["id"]
    post(client, taker, f"/listings/{listing_id}/claims", {"message": "想要"}, status=201)
    post(client, admin, f"/admin/listings/{listing_id}/takedown", {"reason": "违规"})
    with client.application.app_context():
        assert db.session.scalars(select(Claim.status).where(Claim.listing_id == listing_id)).all() == ["declined"]
