"""The seller moves a listing through its life: reserve, reactivate, sell or give, withdraw."""
from __future__ import annotations

from sqlalchemy.orm import Session

from core.db import db
from core.errors import ValidationError
from marketplace.donations.services import settle_claims_on_status_change
from marketplace.listings.counterparties import check_counterparty
from marketplace.listings.services import load_own
from marketplace.listings.state import check_transition
from marketplace.models import Listing, User
from marketplace.signals import emit_listing_status_changed

#: statuses that name a counterparty (buyer_id); every other status clears it
WITH_BUYER = frozenset({"reserved", "sold", "given"})


def _check_buyer(s: Session, *, listing: Listing, status: str, buyer_id: int | None) -> None:
    if buyer_id is None:
        return
    if status not in WITH_BUYER:
        message = f"A buyer can only be named when the listing becomes {', '.join(sorted(WITH_BUYER))}."
        raise ValidationError(message, details={"fields": {"buyer_id": [message]}})
    check_counterparty(s, listing=listing, buyer_id=buyer_id)


def apply_status(s: Session, *, listing: Listing, status: str, buyer_id: int | None = None,
                 by: str = "seller") -> str:
    """Move a listing the caller has locked to `status` as `by` ("seller" or "admin") may, inside the
    caller's transaction.

    Checks the transition (409 invalid_transition) and the named buyer, settles donation claims,
    and sets status and buyer_id; returns the old status. The caller commits, then calls
    `emit_listing_status_changed`.
    """
    check_transition(listing, status, by=by)
    _check_buyer(s, listing=listing, status=status, buyer_id=buyer_id)
    old_status = listing.status
    settle_claims_on_status_change(s, listing=listing, new_status=status, buyer_id=buyer_id)
    listing.status = status
    if status in WITH_BUYER:
        listing.buyer_id = buyer_id if buyer_id is not None else listing.buyer_id
    elif status != "removed":  # a takedown keeps the buyer, so restoring a sold listing keeps its deal
        listing.buyer_id = None
    return old_status


def change_listing_status(*, actor: User, listing_id: int, status: str,
                          buyer_id: int | None = None) -> Listing:
    """Move the seller's own listing to `status` (409 invalid_transition when not allowed).

    `buyer_id` records who it is reserved for, sold or given to; without it a sale or gift
    keeps the buyer it was reserved for. Donation claims are settled in the same transaction.
    """
    with db.transaction() as s:
        listing = load_own(s, listing_id=listing_id, actor=actor)
        old_status = apply_status(s, listing=listing, status=status, buyer_id=buyer_id)
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status,
                                new_status=status, actor_id=actor.id)
    return listing
