"""Listings: create, read with visibility rules, edit by the seller."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from marketplace.listings.state import FINAL, STATUSES
from marketplace.models import Listing, User
from marketplace.moderation.keywords import current_matcher
from marketplace.signals import emit_listing_status_changed

#: statuses only the seller and admins may see
HIDDEN = frozenset({"removed", "pending_review", "rejected"})
#: statuses a ban hides while it lasts (the listings on the market); no status changes, so lifting
#: the ban, or its end passing, brings back exactly these
ON_MARKET = frozenset({"active", "reserved"})
#: statuses in which the seller may still edit the listing: active, reserved, pending_review, rejected
EDITABLE = frozenset(STATUSES) - FINAL


def check_price(kind: str, price_cents: int) -> None:
    """400 unless the price suits the kind: above 0 for a sale, exactly 0 for a donation."""
    problem = None
    if kind == "sale" and price_cents <= 0:
        problem = "A sale needs a price above 0."
    elif kind == "donation" and price_cents != 0:
        problem = "A donation is free: price_cents must be 0."
    if problem:
        raise ValidationError(problem, details={"fields": {"price_cents": [problem]}})


def is_admin(user: User | None) -> bool:
    """True for an authenticated administrator."""
    return user is not None and user.role == "admin"


def can_see(listing: Listing, viewer: User | None) -> bool:
    """True when `viewer` (None: anonymous) may know the listing exists."""
    if is_admin(viewer):
        return True
    if listing.status in ON_MARKET and listing.seller.is_banned():
        return False
    if listing.status not in HIDDEN:
        return True
    return viewer is not None and listing.seller_id == viewer.id


def hidden_by_ban() -> ColumnElement[bool]:
    """SQL condition: the listing is on the market and its seller is banned right now."""
    return and_(Listing.status.in_(ON_MARKET), Listing.seller_id.in_(select(User.id).where(User.banned_condition())))


def visible_to(viewer: User | None) -> ColumnElement[bool]:
    """SQL condition: the listing is visible to `viewer` (see `can_see`)."""
    if is_admin(viewer):
        return true()
    public = Listing.status.not_in(HIDDEN)
    return and_(public if viewer is None else or_(public, Listing.seller_id == viewer.id), ~hidden_by_ban())


def load_visible(s: Session, *, listing_id: int, viewer: User | None, lock: bool = False) -> Listing:
    """The listing if `viewer` may see it, else 404; `lock` takes its row lock (FOR UPDATE)."""
    stmt = select(Listing).where(Listing.id == listing_id)
    if lock:
        # Re-read the row under the lock, whatever an earlier read left in the session.
        stmt = stmt.with_for_update(of=Listing).execution_options(populate_existing=True)
    listing = s.scalar(stmt)
    if listing is None or not can_see(listing, viewer):
        raise NotFound("No such listing.")
    return listing


def load_own(s: Session, *, listing_id: int, actor: User) -> Listing:
    """The actor's own listing, locked: 404 when invisible to them, 403 when someone else's."""
    listing = load_visible(s, listing_id=listing_id, viewer=actor, lock=True)
    if listing.seller_id != actor.id:
        raise Forbidden("Only the seller can change this listing.", code="not_seller")
    return listing


def create_listing(*, seller: User, kind: str, title: str, category: str, condition: str, city: str,
                   description: str = "", price_cents: int = 0, images: list[str] | None = None) -> Listing:
    """Publish a new listing: active, or pending_review when its text trips a keyword rule."""
    check_price(kind, price_cents)
    status = "pending_review" if current_matcher().flags_listing(title, description) else "active"
    listing = Listing(seller_id=seller.id, kind=kind, title=title, description=description,
                      price_cents=price_cents, category=category, condition=condition,
                      images=list(images or []), city=city, status=status, favorite_count=0)
    with db.transaction() as s:
        s.add(listing)
    return listing


def get_listing(*, listing_id: int, viewer: User | None) -> Listing:
    """A listing as `viewer` may see it (hidden ones are 404 to everyone but seller and admins)."""
    return load_visible(db.session, listing_id=listing_id, viewer=viewer)


def update_listing(*, actor: User, listing_id: int, changes: dict[str, Any]) -> Listing:
    """Edit the seller's own listing; a rejected one, or one whose new text trips a keyword rule, goes
    (back) to review."""
    # Compiled before the transaction: a cache miss reads the rules table, never under the row lock.
    matcher = current_matcher() if "title" in changes or "description" in changes else None
    with db.transaction() as s:
        listing = load_own(s, listing_id=listing_id, actor=actor)
        if listing.status not in EDITABLE:
            raise Conflict(f"A {listing.status} listing can no longer be edited.",
                           code="listing_not_editable", details={"status": listing.status})
        check_price(listing.kind, changes.get("price_cents", listing.price_cents))
        old_status = listing.status
        for key, value in changes.items():
            setattr(listing, key, value)
        flagged = matcher is not None and matcher.flags_listing(listing.title, listing.description)
        if old_status == "rejected" or (flagged and old_status != "pending_review"):
            listing.status, listing.review_note = "pending_review", None
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status,
                                new_status=listing.status, actor_id=actor.id)
    return listing
