"""Admin listing moderation: the review queue, approve, reject, take down and restore."""
from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from core.db import db
from core.errors import Conflict, NotFound
from core.pagination import Page, paginate
from marketplace.audit import record_audit
from marketplace.listings.status import apply_status
from marketplace.models import Listing, Report, User
from marketplace.signals import emit_listing_status_changed

#: where a restore takes a listing, by the status its takedown found it in (default: the same).
#: A reservation does not survive a takedown (its claims and offers were declined), and a
#: listing that never passed review goes back to the queue.
RESTORE_TO = {"reserved": "active", "rejected": "pending_review"}


def has_open_reports() -> Select:
    """EXISTS: an open report names the listing."""
    return exists().where(Report.target_type == "listing", Report.target_id == Listing.id,  # type: ignore[return-value]
                          Report.status == "open")


def list_listings(*, page: int, page_size: int, status: str | None = None, reported: bool | None = None,
                  seller_id: int | None = None) -> Page:
    """Listings in any status; the review queue (`pending_review`) longest waiting first, others newest first."""
    stmt = select(Listing)
    if status is not None:
        stmt = stmt.where(Listing.status == status)
    if reported is not None:
        stmt = stmt.where(has_open_reports() if reported else ~has_open_reports())  # type: ignore[arg-type]
    if seller_id is not None:
        stmt = stmt.where(Listing.seller_id == seller_id)
    # updated_at: when it (re-)entered review; a seller's edit puts it back in line.
    order = ((Listing.updated_at.asc(), Listing.id.asc()) if status == "pending_review"
             else (Listing.created_at.desc(), Listing.id.desc()))
    return paginate(db.session, stmt.order_by(*order), page=page, page_size=page_size)


def _lock(s: Session, listing_id: int) -> Listing:
    listing = s.scalar(select(Listing).where(Listing.id == listing_id).with_for_update(of=Listing)
                       .execution_options(populate_existing=True))
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def _move(s: Session, *, admin: User, listing: Listing, status: str, action: str, note: str | None,
          only_from: str | None = None, details: dict | None = None) -> str:
    """Move a locked listing as an admin (409 invalid_transition when not allowed, or when it is not in
    `only_from`), set its review note, audit it; returns the old status."""
    if only_from is not None and listing.status != only_from:
        raise Conflict(f"This listing is {listing.status}, not {only_from}.", code="invalid_transition",
                       details={"from": listing.status, "to": status, "allowed_from": [only_from]})
    old_status = apply_status(s, listing=listing, status=status, by="admin")
    listing.review_note = note
    record_audit(s, actor_id=admin.id, action=action, target_type="listing", target_id=listing.id,
                 details={"from": old_status, "to": status, **({"reason": note} if note else {}),
                          **(details or {})})
    return old_status


def apply_takedown(s: Session, *, admin: User, listing_id: int, reason: str,
                   details: dict | None = None) -> tuple[Listing, str]:
    """Take a listing down (`removed`) inside the caller's transaction; returns it and its old status.

    The reason goes to the seller (review_note); the status it left is kept for a restore.
    The caller commits, then calls `emit_listing_status_changed`.
    """
    listing = _lock(s, listing_id)
    old_status = _move(s, admin=admin, listing=listing, status="removed", action="listing.takedown",
                       note=reason, details=details)
    listing.removed_from = old_status
    return listing, old_status


def _decide(*, admin: User, listing_id: int, status: str, action: str, note: str | None = None) -> Listing:
    """Approve or reject a listing waiting for review, and announce it after commit."""
    with db.transaction() as s:
        listing = _lock(s, listing_id)
        old_status = _move(s, admin=admin, listing=listing, status=status, action=action, note=note,
                           only_from="pending_review")
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status=status,
                                actor_id=admin.id)
    return listing


def approve_listing(*, admin: User, listing_id: int) -> Listing:
    """Pass a listing waiting for review: it becomes active (409 unless pending_review)."""
    return _decide(admin=admin, listing_id=listing_id, status="active", action="listing.approve")


def reject_listing(*, admin: User, listing_id: int, reason: str) -> Listing:
    """Refuse a listing waiting for review with a reason its seller sees; their next edit resubmits it."""
    return _decide(admin=admin, listing_id=listing_id, status="rejected", action="listing.reject", note=reason)


def takedown_listing(*, admin: User, listing_id: int, reason: str) -> Listing:
    """Remove a listing from the market, whatever its status; its chats get a notice and turn read-only."""
    with db.transaction() as s:
        listing, old_status = apply_takedown(s, admin=admin, listing_id=listing_id, reason=reason)
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status="removed",
                                actor_id=admin.id)
    return listing


def restore_listing(*, admin: User, listing_id: int) -> Listing:
    """Undo a takedown: back to the status it was taken down from (see RESTORE_TO), review note cleared."""
    with db.transaction() as s:
        listing = _lock(s, listing_id)
        before = listing.removed_from or "active"
        target = RESTORE_TO.get(before, before)
        old_status = _move(s, admin=admin, listing=listing, status=target, action="listing.restore", note=None,
                           only_from="removed")
        listing.removed_from = None
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status=target,
                                actor_id=admin.id)
    return listing
