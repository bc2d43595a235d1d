"""HTTP routes of offers: make one in an item group, list a group's offers, accept/decline/withdraw."""
from __future__ import annotations

from chat.offers import services
from chat.offers.schemas import OfferCreateSchema, OfferListArgsSchema, OfferSchema
from core.api import Blueprint
from core.auth import auth_required, current_user
from core.pagination import page_schema
from core.ratelimit import by_user, rate_limited

bp = Blueprint("chat_offers", __name__, description="Price offers in item groups")


@bp.post("/groups/<int:group_id>/offers")
@auth_required
@rate_limited("send", "send_sustained", by=by_user)  # an offer is a message in the chat
@bp.arguments(OfferCreateSchema)
@bp.response(201, OfferSchema)
def make_offer(data, group_id: int):
    """Buyer: offer a price for the listing of an item group (one pending offer per listing)."""
    return services.make_offer(buyer=current_user(), group_id=group_id, **data)


@bp.get("/groups/<int:group_id>/offers")
@auth_required
@bp.arguments(OfferListArgsSchema, location="query")
@bp.response(200, page_schema(OfferSchema))
def list_offers(args, group_id: int):
    """A group's offers, newest first (members only)."""
    return services.list_offers(user=current_user(), group_id=group_id, **args)


@bp.post("/offers/<int:offer_id>/accept")
@auth_required
@bp.response(200, OfferSchema)
def accept_offer(offer_id: int):
    """Seller: accept a pending offer; the listing becomes reserved for its buyer, other offers are declined."""
    return services.transition_offer(actor=current_user(), offer_id=offer_id, action="accept")


@bp.post("/offers/<int:offer_id>/decline")
@auth_required
@bp.response(200, OfferSchema)
def decline_offer(offer_id: int):
    """Seller: decline a pending offer."""
    return services.transition_offer(actor=current_user(), offer_id=offer_id, action="decline")


@bp.post("/offers/<int:offer_id>/withdraw")
@auth_required
@bp.response(200, OfferSchema)
def withdraw_offer(offer_id: int):
    """Buyer: withdraw your pending offer."""
    return services.transition_offer(actor=current_user(), offer_id=offer_id, action="withdraw")
