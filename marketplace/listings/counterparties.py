"""Who may be named as a listing's buyer: someone who really dealt with its seller about it.

A counterparty is the claimant of an accepted claim (marketplace knows claims), or whatever a
registered source vouches for: chat registers the members of an item chat about the listing and
the buyers of accepted offers (marketplace never imports chat). Nobody in a block relation with
the seller ever is one.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.errors import Forbidden, ValidationError
from marketplace.models import Claim, Listing, User
from marketplace.users.blocks import blocked_between

#: source(session, listing_id=..., seller_id=..., user_id=...) -> True when the user dealt about the listing
CounterpartySource = Callable[..., bool]
_sources: dict[str, CounterpartySource] = {}


def register_counterparty_source(name: str, source: CounterpartySource) -> None:
    """Let `source` vouch for buyers (registering a name again replaces it)."""
    _sources[name] = source


def _accepted_claimant(s: Session, *, listing_id: int, user_id: int) -> bool:
    return bool(s.scalar(select(exists().where(Claim.listing_id == listing_id, Claim.claimant_id == user_id,
                                               Claim.status == "accepted"))))


def is_counterparty(s: Session, *, listing: Listing, user_id: int) -> bool:
    """True when `user_id` claimed the listing (accepted) or a registered source vouches for them."""
    if _accepted_claimant(s, listing_id=listing.id, user_id=user_id):
        return True
    return any(source(s, listing_id=listing.id, seller_id=listing.seller_id, user_id=user_id)
               for source in list(_sources.values()))


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {"buyer_id": [message]}})


def check_counterparty(s: Session, *, listing: Listing, buyer_id: int) -> None:
    """400 unless `buyer_id` is a real counterparty of this listing's seller; 403 `blocked` when
    either of them blocked the other."""
    if buyer_id == listing.seller_id:
        raise _invalid("The seller cannot be the buyer.")
    if s.get(User, buyer_id) is None:
        raise _invalid("No such user.")
    if blocked_between(s, listing.seller_id, buyer_id):
        raise Forbidden("You cannot deal with this user.", code="blocked")
    if not is_counterparty(s, listing=listing, user_id=buyer_id):
        raise _invalid("Only someone who asked about this listing in its chat, made an accepted offer "
                       "or holds an accepted claim can be named as its buyer.")
