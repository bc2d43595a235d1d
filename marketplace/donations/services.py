"""Donation claims: make them, list them, move them through their state machine, settle them.

Lock order, everywhere, so concurrent units of work never deadlock: the listing row, then
the claimant's user row (as reviews do: listing, then the reviewee's row), then claim rows.
On SQLite every unit of work already holds the write lock from BEGIN IMMEDIATE, so the row
locks are no-ops there.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound
from core.pagination import Page, paginate
from core.ratelimit import enforce
from marketplace.donations.state import CLAIM_MOVES, OPEN, ClaimMove, claim_move
from marketplace.listings.services import load_visible
from marketplace.listings.state import check_transition
from marketplace.models import Claim, Listing, User
from marketplace.signals import emit_listing_status_changed
from marketplace.users.blocks import ensure_not_blocked


def create_claim(*, actor: User, listing_id: int, message: str = "") -> Claim:
    """Ask for a donation: one open claim per user per listing, at most MAX_OPEN_CLAIMS open in all;
    a claim that passes those rules counts against the `claim` rate limit."""
    try:
        with db.transaction() as s:
            listing = load_visible(s, listing_id=listing_id, viewer=actor, lock=True)
            if listing.kind != "donation":
                raise Conflict("Only donation listings can be claimed.", code="not_a_donation")
            if listing.seller_id == actor.id:
                raise Forbidden("You cannot claim your own listing.", code="own_listing")
            ensure_not_blocked(actor_id=actor.id, other_id=listing.seller_id)
            if listing.status != "active":
                raise Conflict("This listing takes no claims now.", code="listing_not_available",
                               details={"status": listing.status})
            # The claimant's row lock serializes their claims on different listings (the limit);
            # NO KEY UPDATE, so rows that merely reference the user (tokens, messages) are not held up.
            claimant = s.scalars(select(User).where(User.id == actor.id)
                                 .with_for_update(of=User, key_share=True)
                                 .execution_options(populate_existing=True)).one()
            open_on = set(s.scalars(select(Claim.listing_id).where(
                Claim.claimant_id == actor.id, Claim.status.in_(OPEN))))
            if listing.id in open_on:
                raise Conflict("You already have an open claim on this listing.", code="claim_exists")
            limit = current_app.config["MAX_OPEN_CLAIMS"]
            if len(open_on) >= limit:
                raise Conflict(f"You can hold at most {limit} open claims.", code="claim_limit",
                               details={"limit": limit})
            # Counted only now: a claim the rules above refuse answers with their 409, never a 429.
            enforce("claim", subject=actor.id)
            claim = Claim(listing_id=listing.id, claimant=claimant, message=message, status="pending")
            s.add(claim)
    except IntegrityError:
        # The partial unique index caught a duplicate the locks did not (e.g. a raw insert).
        raise Conflict("You already have an open claim on this listing.", code="claim_exists") from None
    return claim


def list_listing_claims(*, actor: User, listing_id: int, status: str | None = None,
                        page: int, page_size: int) -> Page:
    """Claims on one listing, oldest first: all of them for its seller, the caller's own for anyone else."""
    listing = load_visible(db.session, listing_id=listing_id, viewer=actor)
    stmt = select(Claim).where(Claim.listing_id == listing_id)
    if listing.seller_id != actor.id:
        stmt = stmt.where(Claim.claimant_id == actor.id)
    if status is not None:
        stmt = stmt.where(Claim.status == status)
    return paginate(db.session, stmt.order_by(Claim.created_at, Claim.id), page=page, page_size=page_size)


def list_my_claims(*, actor: User, status: str | None = None, page: int, page_size: int) -> Page:
    """The caller's own claims across listings, newest first."""
    stmt = select(Claim).where(Claim.claimant_id == actor.id).options(joinedload(Claim.listing))
    if status is not None:
        stmt = stmt.where(Claim.status == status)
    return paginate(db.session, stmt.order_by(Claim.created_at.desc(), Claim.id.desc()),
                    page=page, page_size=page_size)


def transition_claim(*, actor: User, claim_id: int, action: str) -> Claim:
    """Take `action` (a key of CLAIM_MOVES) on a claim as its seller or claimant, moving the listing along."""
    with db.transaction() as s:
        listing_id = s.scalar(select(Claim.listing_id).where(Claim.id == claim_id))
        if listing_id is None:
            raise NotFound("No such claim.")
        listing = s.scalars(select(Listing).where(Listing.id == listing_id).with_for_update(of=Listing)
                            .execution_options(populate_existing=True)).one()
        claim = s.scalars(select(Claim).where(Claim.id == claim_id).with_for_update(of=Claim)
                          .execution_options(populate_existing=True)).one()
        party = ("seller" if actor.id == listing.seller_id
                 else "claimant" if actor.id == claim.claimant_id else None)
        if party is None:
            raise NotFound("No such claim.")
        if party != CLAIM_MOVES[action].actor:
            raise Forbidden(f"Only the {CLAIM_MOVES[action].actor} may {action} this claim.")
        move = claim_move(action, claim)
        old_status = listing.status
        _move_listing(s, listing=listing, claim=claim, move=move)
        claim.status = move.to
    emit_listing_status_changed(listing_id=listing.id, old_status=old_status,
                                new_status=listing.status, actor_id=actor.id)
    return claim


def _move_listing(s: Session, *, listing: Listing, claim: Claim, move: ClaimMove) -> None:
    """Apply what a claim move does to its listing (the listing row is locked)."""
    new_status = move.sources[claim.status]
    if move.to == "accepted" and listing.status != "active":
        raise Conflict("This listing is not available to accept a claim.", code="listing_not_available",
                       details={"status": listing.status})
    held_for_claimant = listing.status == "reserved" and listing.buyer_id == claim.claimant_id
    if move.actor == "claimant" and not held_for_claimant:
        # A claimant can always walk away; the listing only comes back if it was held for them.
        return
    if new_status is None:
        return
    check_transition(listing, new_status, by="seller")
    listing.status = new_status
    if new_status == "reserved":
        listing.buyer_id = claim.claimant_id
    elif new_status == "active":
        listing.buyer_id = None
    elif new_status == "given":
        _set_claims(s, listing_id=listing.id, from_statuses=["pending"], to="declined")


def _set_claims(s: Session, *, listing_id: int, from_statuses: Iterable[str], to: str,
                claimant_id: int | None = None) -> None:
    stmt = update(Claim).where(Claim.listing_id == listing_id, Claim.status.in_(list(from_statuses)))
    if claimant_id is not None:
        stmt = stmt.where(Claim.claimant_id == claimant_id)
    s.execute(stmt.values(status=to, updated_at=utcnow()))


def settle_claims_on_status_change(session: Session, *, listing: Listing, new_status: str,
                                   buyer_id: int | None = None) -> None:
    """Bring a donation's claims in line with a status the seller (or an admin) set by hand.

    Call inside the transaction that changes the status, after check_transition and
    before commit. To withdrawn/removed: every open claim is declined. To active: the
    accepted claim (if any) is declined, pending ones stay. To given: the accepted claim
    is completed when its claimant is the recipient (`buyer_id`, else the one the listing
    was reserved for), every other open claim is declined. No-op for sale listings and
    other statuses.
    """
    if listing.kind != "donation":
        return
    if new_status in ("withdrawn", "removed"):
        _set_claims(session, listing_id=listing.id, from_statuses=OPEN, to="declined")
    elif new_status == "active":
        _set_claims(session, listing_id=listing.id, from_statuses=["accepted"], to="declined")
    elif new_status == "given":
        recipient = buyer_id if buyer_id is not None else listing.buyer_id
        if recipient is not None:
            _set_claims(session, listing_id=listing.id, from_statuses=["accepted"], to="completed",
                        claimant_id=recipient)
        _set_claims(session, listing_id=listing.id, from_statuses=OPEN, to="declined")
