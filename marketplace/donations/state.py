"""The claim state machine: who may move a claim from which status, and what that does to the listing."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import Conflict
from marketplace.models import Claim

CLAIM_STATUSES = ("pending", "accepted", "declined", "cancelled", "completed", "no_show")
#: open claims: one per user per listing, and they count toward MAX_OPEN_CLAIMS
OPEN = frozenset(Claim.OPEN_STATUSES)


@dataclass(frozen=True)
class ClaimMove:
    """One action on a claim: who may take it, the claim status it leads to, and from where.

    `sources` maps each claim status the action may start from to the listing status
    the listing moves to as a consequence (None: the listing is left as it is).
    """

    actor: str
    to: str
    sources: dict[str, str | None]


#: every allowed move; anything not listed here is an invalid transition
CLAIM_MOVES: dict[str, ClaimMove] = {
    "accept": ClaimMove("seller", "accepted", {"pending": "reserved"}),
    "decline": ClaimMove("seller", "declined", {"pending": None}),
    "cancel": ClaimMove("claimant", "cancelled", {"pending": None, "accepted": "active"}),
    "complete": ClaimMove("seller", "completed", {"accepted": "given"}),
    "no_show": ClaimMove("seller", "no_show", {"accepted": "active"}),
}
ACTIONS = tuple(CLAIM_MOVES)


def claim_move(action: str, claim: Claim) -> ClaimMove:
    """The move `action` makes from the claim's status; 409 invalid_transition if there is none."""
    move = CLAIM_MOVES[action]
    if claim.status not in move.sources:
        raise Conflict(f"A {claim.status} claim cannot become {move.to}.",
                       code="invalid_transition",
                       details={"from": claim.status, "to": move.to, "allowed_from": sorted(move.sources)})
    return move
