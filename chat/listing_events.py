"""Listing status changes seen in chat: a system message in every item group of the listing."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from chat.conversations.archive import FINAL_STATUSES, record_listing_status
from chat.messages.send import SendResult, post_system_messages
from chat.models import ChatGroup
from chat.offers.services import decline_open_offers
from core.db import db

log = logging.getLogger(__name__)

RESERVED = "卖家已将商品标记为已预订"
REACTIVATED = "卖家已取消预订,商品重新开放"
SOLD = "商品已售出"
GIVEN = "物品已送出"
WITHDRAWN = "卖家已下架该商品"
REMOVED = "该商品因违反平台规则已被下架,会话已关闭"
RESTORED = "平台已恢复该商品,会话重新开放"
#: statuses after which a listing takes no deal: its pending offers are declined, its chats age towards archive
OFF_MARKET = FINAL_STATUSES


def system_notice(old_status: str, new_status: str) -> tuple[str, bool | None] | None:
    """The system text for a status change and the read-only flag to set (None: leave it), or None."""
    if new_status == "removed":
        return REMOVED, True
    if old_status == "removed":
        # An admin's restore, to whatever status the takedown found (active, sold, withdrawn, review...).
        return RESTORED, False
    if new_status == "active":
        return (REACTIVATED, None) if old_status == "reserved" else None
    texts = {"reserved": RESERVED, "sold": SOLD, "given": GIVEN, "withdrawn": WITHDRAWN}
    return (texts[new_status], None) if new_status in texts else None


def announce_status_change(*, listing_id: int, old_status: str, new_status: str) -> list[SendResult]:
    """Post the notice for a committed status change into every item group of the listing."""
    notice = system_notice(old_status, new_status)
    if notice is None:
        return []
    group_ids = db.session.scalars(select(ChatGroup.id).where(ChatGroup.listing_id == listing_id,
                                                              ChatGroup.kind == "item")).all()
    if not group_ids:
        return []
    text, read_only = notice
    return post_system_messages(group_ids=group_ids, text=text, read_only=read_only)


def on_listing_status_changed(_app: Any, *, listing_id: int, old_status: str, new_status: str,
                              **_kw: Any) -> None:
    """Receiver of marketplace.signals.listing_status_changed (sent after the change committed): the
    final-status stamp of its item groups (archive), the notice in each, and pending offers declined
    once the listing is off the market."""
    try:
        announce_status_change(listing_id=listing_id, old_status=old_status, new_status=new_status)
        if new_status in OFF_MARKET:
            decline_open_offers(listing_id=listing_id)
    except Exception:
        # The listing change is committed; a failed notice must not turn its response into a 500.
        log.exception("could not post the chat notice of listing %s (%s → %s)",
                      listing_id, old_status, new_status)
    try:
        record_listing_status(listing_id=listing_id, new_status=new_status)
    except Exception:
        log.exception("could not stamp the final status of listing %s on its chats", listing_id)
