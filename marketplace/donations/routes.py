"""HTTP routes of donation claims."""
from __future__ import annotations

from core.api import Blueprint
from core.auth import auth_required, current_user
from core.pagination import page_schema
from core.ratelimit import documents_429
from marketplace.donations import services
from marketplace.donations.schemas import ClaimCreateSchema, ClaimListArgsSchema, ClaimSchema, MyClaimSchema

bp = Blueprint("donations", __name__, description="Claims on donation listings")


@bp.post("/listings/<int:listing_id>/claims")
@auth_required
@documents_429
@bp.arguments(ClaimCreateSchema, required=False)  # the note is optional, so is the body
@bp.response(201, ClaimSchema)
def create_claim(data, listing_id: int):
    """Claim a donation listing (one open claim per listing, a capped number in all).

    The rules of the claim answer first (409 `claim_exists`, `claim_limit`, ...); only a claim that
    passes them counts against the `claim` rate limit (429).
    """
    return services.create_claim(actor=current_user(), listing_id=listing_id, **data)


@bp.get("/listings/<int:listing_id>/claims")
@auth_required
@bp.arguments(ClaimListArgsSchema, location="query")
@bp.response(200, page_schema(ClaimSchema))
def list_listing_claims(args, listing_id: int):
    """Claims on a listing, oldest first: all of them for the seller, your own for anyone else."""
    return services.list_listing_claims(actor=current_user(), listing_id=listing_id, **args)


@bp.get("/me/claims")
@auth_required
@bp.arguments(ClaimListArgsSchema, location="query")
@bp.response(200, page_schema(MyClaimSchema))
def list_my_claims(args):
    """Your own claims, newest first, each with a summary of its listing."""
    return services.list_my_claims(actor=current_user(), **args)


@bp.post("/claims/<int:claim_id>/accept")
@auth_required
@bp.response(200, ClaimSchema)
def accept_claim(claim_id: int):
    """Seller: accept a pending claim; the listing becomes reserved for the claimant."""
    return services.transition_claim(actor=current_user(), claim_id=claim_id, action="accept")


@bp.post("/claims/<int:claim_id>/decline")
@auth_required
@bp.response(200, ClaimSchema)
def decline_claim(claim_id: int):
    """Seller: decline a pending claim."""
    return services.transition_claim(actor=current_user(), claim_id=claim_id, action="decline")


@bp.post("/claims/<int:claim_id>/cancel")
@auth_required
@bp.response(200, ClaimSchema)
def cancel_claim(claim_id: int):
    """Claimant: withdraw a pending or accepted claim; an accepted one puts the listing back to active."""
    return services.transition_claim(actor=current_user(), claim_id=claim_id, action="cancel")


@bp.post("/claims/<int:claim_id>/complete")
@auth_required
@bp.response(200, ClaimSchema)
def complete_claim(claim_id: int):
    """Seller: the item was handed over; the listing becomes given, other pending claims are declined."""
    return services.transition_claim(actor=current_user(), claim_id=claim_id, action="complete")


@bp.post("/claims/<int:claim_id>/no_show")
@auth_required
@bp.response(200, ClaimSchema)
def no_show_claim(claim_id: int):
    """Seller: the claimant did not come; the listing returns to active for the next claim."""
    return services.transition_claim(actor=current_user(), claim_id=claim_id, action="no_show")
