"""Offers: make one in an item group, accept (reserving the listing), decline or withdraw it, list them.

Lock order in every unit of work here: the listing row, then offer rows, then group rows, then
inbox counters. The listing lock serializes everything done to one listing's offers (two accepts
at once: the second sees the listing reserved); the rest is the order of a message send. Each
offer change and its `offer` messages commit together; the messages are published after commit
(their events are raised in the unit of work).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chat.groups.access import membership, require_member
from chat.messages.send import SendResult, lock_for_sender, post_server_messages
from chat.models import Offer
from chat.offers.state import OFFER_MOVES, OPEN, check_offer_move
from core.db import db
from core.errors import Conflict, Forbidden, NotFound
from core.pagination import Page, paginate
from marketplace.listings.status import apply_status
from marketplace.models import Listing, User
from marketplace.signals import emit_listing_status_changed


def offer_body(offer: Offer) -> dict:
    """The body of the `offer` message that shows an offer's (new) status in the chat."""
    return {"offer_id": offer.id, "price_cents": offer.price_cents, "status": offer.status}


def make_offer(*, buyer: User, group_id: int, price_cents: int) -> Offer:
    """The buyer of an item group offers a price for its (active, sale) listing: a pending offer and its message.

    404 for non-members; 409 `not_item_group` in a direct group or room; 403 `not_buyer` for the
    seller; 403 `read_only`, `blocked` or `banned` as for any message; 409 `not_a_sale` for a
    donation, `listing_not_active` unless the listing is active, `offer_exists` when the buyer
    already has a pending offer on it.
    """
    try:
        with db.transaction() as s:
            group, _ = require_member(s, group_id=group_id, user_id=buyer.id)
            if group.kind != "item" or group.listing_id is None:
                raise Conflict("Offers are made in the chat about a listing.", code="not_item_group",
                               details={"kind": group.kind})
            if group.buyer_id != buyer.id:
                raise Forbidden("Only the buyer makes offers in this chat.", code="not_buyer")
            listing = _lock_listing(s, group.listing_id)
            lock_for_sender(s, group_id=group_id, sender=buyer)
            if listing.kind != "sale":
                raise Conflict("A donation takes claims, not offers.", code="not_a_sale")
            _require_active(listing)
            existing = s.scalar(select(Offer.id).where(Offer.listing_id == listing.id, Offer.buyer_id == buyer.id,
                                                       Offer.status == OPEN))
            if existing is not None:
                raise Conflict("You already have a pending offer on this listing.", code="offer_exists",
                               details={"offer_id": existing})
            offer = Offer(group_id=group_id, listing_id=listing.id, buyer=s.get(User, buyer.id),
                          price_cents=price_cents, status=OPEN)
            s.add(offer)
            s.flush()
            _post(s, sender=buyer, offers=[offer])
    except IntegrityError:
        # The partial unique index caught a duplicate the listing lock did not.
        raise Conflict("You already have a pending offer on this listing.", code="offer_exists") from None
    return offer


def transition_offer(*, actor: User, offer_id: int, action: str) -> Offer:
    """Take `action` (accept, decline, withdraw) on an offer; each change posts an `offer` message from the actor.

    404 unless the actor is in the offer's group; 403 `not_seller`/`not_buyer` for the wrong party;
    409 `invalid_transition` unless the offer is pending; 403 `read_only`/`blocked`/`banned` as
    for any message. Accepting needs an active listing (409 `listing_not_active`), reserves it for
    the buyer and declines every other pending offer on it, each with a message in its own group.
    """
    with db.transaction() as s:
        ref = s.execute(select(Offer.group_id, Offer.listing_id).where(Offer.id == offer_id)).one_or_none()
        if ref is None or membership(s, group_id=ref.group_id, user_id=actor.id) is None:
            raise NotFound("No such offer.")
        listing = _lock_listing(s, ref.listing_id)
        offer = s.scalars(select(Offer).where(Offer.id == offer_id).with_for_update(of=Offer)
                          .execution_options(populate_existing=True)).one()
        party = ("buyer" if actor.id == offer.buyer_id else "seller" if actor.id == listing.seller_id else None)
        move = check_offer_move(action, status=offer.status, party=party)
        changed, old_status = [offer], None
        if move.to == "accepted":
            _require_active(listing)
            changed += s.scalars(select(Offer).where(Offer.listing_id == listing.id, Offer.status == OPEN,
                                                     Offer.id != offer.id)
                                 .order_by(Offer.id).with_for_update(of=Offer)
                                 .execution_options(populate_existing=True)).all()
        lock_for_sender(s, group_id=offer.group_id, sender=actor)
        if move.to == "accepted":
            old_status = apply_status(s, listing=listing, status="reserved", buyer_id=offer.buyer_id)
            for other in changed[1:]:
                other.status = OFFER_MOVES["decline"].to
        offer.status = move.to
        s.flush()
        _post(s, sender=actor, offers=changed)
    if old_status is not None:
        emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status=listing.status,
                                    actor_id=actor.id)
    return offer


def decline_open_offers(*, listing_id: int) -> list[SendResult]:
    """Decline every pending offer of a listing that has left the market, each with a system `offer` message."""
    with db.transaction() as s:
        _lock_listing(s, listing_id)
        offers = s.scalars(select(Offer).where(Offer.listing_id == listing_id, Offer.status == OPEN)
                           .order_by(Offer.id).with_for_update(of=Offer)
                           .execution_options(populate_existing=True)).all()
        for offer in offers:
            offer.status = OFFER_MOVES["decline"].to
        s.flush()
        return post_server_messages(s, sender=None, posts=[(o.group_id, "offer", offer_body(o)) for o in offers])


def list_offers(*, user: User, group_id: int, page: int, page_size: int, status: str | None = None) -> Page:
    """A group's offers, newest first, for its members (404 for anyone else)."""
    require_member(db.session, group_id=group_id, user_id=user.id)
    stmt = select(Offer).where(Offer.group_id == group_id)
    if status is not None:
        stmt = stmt.where(Offer.status == status)
    return paginate(db.session, stmt.order_by(Offer.created_at.desc(), Offer.id.desc()), page=page,
                    page_size=page_size)


def _lock_listing(s: Session, listing_id: int) -> Listing:
    """The listing row under its lock, re-read whatever the session held before."""
    return s.scalars(select(Listing).where(Listing.id == listing_id).with_for_update(of=Listing)
                     .execution_options(populate_existing=True)).one()


def _require_active(listing: Listing) -> None:
    if listing.status != "active":
        raise Conflict("This listing takes no offers now.", code="listing_not_active",
                       details={"status": listing.status})


def _post(s: Session, *, sender: User, offers: list[Offer]) -> list[SendResult]:
    return post_server_messages(s, sender=sender, posts=[(o.group_id, "offer", offer_body(o)) for o in offers])
