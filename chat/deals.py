"""Chat's say on who dealt with a seller about a listing (registered with marketplace's counterparties)."""
from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from chat.models import ChatGroup, ChatMember, Offer


def dealt_in_chat(s: Session, *, listing_id: int, seller_id: int, user_id: int) -> bool:
    """True when `user_id` is a member of an item chat about the listing, or the buyer of an
    accepted offer on it."""
    in_item_chat = exists().where(ChatGroup.kind == "item", ChatGroup.listing_id == listing_id,
                                  ChatMember.group_id == ChatGroup.id, ChatMember.user_id == user_id)
    accepted_offer = exists().where(Offer.listing_id == listing_id, Offer.buyer_id == user_id,
                                    Offer.status == "accepted")
    return user_id != seller_id and bool(s.scalar(select(or_(in_item_chat, accepted_offer))))
