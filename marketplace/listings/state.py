"""The listing status state machine: who may move a listing from which status to which."""
from __future__ import annotations

from core.errors import Conflict
from marketplace.models import Listing

STATUSES = ("active", "reserved", "sold", "given", "withdrawn", "removed", "pending_review", "rejected")
FINAL = frozenset({"sold", "given", "withdrawn", "removed"})
#: statuses anyone may see in search and on the listing page
PUBLIC = frozenset({"active", "reserved", "sold", "given"})

SELLER_MOVES: dict[str, frozenset[str]] = {
    "active": frozenset({"reserved", "withdrawn"}),
    "reserved": frozenset({"active", "sold", "given", "withdrawn"}),
    # A listing waiting for (or refused by) review can still be taken back by its seller.
    "pending_review": frozenset({"withdrawn"}),
    "rejected": frozenset({"withdrawn"}),
}
ADMIN_MOVES: dict[str, frozenset[str]] = {
    **{status: frozenset({"removed"}) for status in STATUSES if status != "removed"},
    "pending_review": frozenset({"active", "rejected", "removed"}),
    # A restore returns a listing to where the takedown found it (see marketplace/moderation/listings.py).
    "removed": frozenset({"active", "sold", "given", "withdrawn", "pending_review"}),
}
#: the terminal status each kind ends in when the deal is done
DONE_STATUS = {"sale": "sold", "donation": "given"}


def check_transition(listing: Listing, new_status: str, *, by: str) -> None:
    """Raise 409 unless `by` ("seller" or "admin") may move `listing` to `new_status`."""
    moves = (SELLER_MOVES if by == "seller" else ADMIN_MOVES).get(listing.status, frozenset())
    if new_status in ("sold", "given") and DONE_STATUS[listing.kind] != new_status:
        raise Conflict(f"A {listing.kind} listing ends as {DONE_STATUS[listing.kind]!r}, not {new_status!r}.",
                       code="invalid_transition",
                       details={"from": listing.status, "to": new_status})
    if new_status not in moves:
        raise Conflict(f"A listing cannot go from {listing.status!r} to {new_status!r}.",
                       code="invalid_transition",
                       details={"from": listing.status, "to": new_status,
                                "allowed": sorted(moves)})
