"""The offer state machine: who may take which action on an offer, and from which status."""
from __future__ import annotations

from dataclasses import dataclass

from chat.models import Offer
from core.errors import Conflict, Forbidden

OFFER_STATUSES = Offer.STATUSES
#: only a pending offer moves; accepted, declined and withdrawn are final
OPEN = "pending"


@dataclass(frozen=True)
class OfferMove:
    """One action on an offer: the party who may take it and the status it leads to (from pending)."""

    actor: str  # "buyer" or "seller"
    to: str


OFFER_MOVES: dict[str, OfferMove] = {
    "accept": OfferMove("seller", "accepted"),
    "decline": OfferMove("seller", "declined"),
    "withdraw": OfferMove("buyer", "withdrawn"),
}
ACTIONS = tuple(OFFER_MOVES)


def check_offer_move(action: str, *, status: str, party: str | None) -> OfferMove:
    """The move `action` makes; 403 `not_seller`/`not_buyer` for the wrong party, 409 `invalid_transition`
    when the offer is no longer pending."""
    move = OFFER_MOVES[action]
    if party != move.actor:
        raise Forbidden(f"Only the {move.actor} may {action} this offer.",
                        code="not_seller" if move.actor == "seller" else "not_buyer")
    if status != OPEN:
        raise Conflict(f"A {status} offer cannot become {move.to}.", code="invalid_transition",
                       details={"from": status, "to": move.to, "allowed_from": [OPEN]})
    return move
