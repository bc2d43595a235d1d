"""One-time subscribe-message quotas: each `accept` of wx.requestSubscribeMessage allows one message."""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select, update

from core.db import db, dialect_insert, utcnow
from core.errors import ValidationError
from marketplace.models import User, WeChatSubscription


def record(*, user: User, template_id: str, accepted: bool) -> dict[str, Any]:
    """Add one message to the caller's quota for the template when `accepted`; the quota as it is now.

    Only the template configured for notifications (WECHAT_TEMPLATE_ID) is accepted: 400
    `unknown_template` otherwise.
    """
    if template_id != current_app.config.get("WECHAT_TEMPLATE_ID"):
        raise ValidationError("This template is not one this server sends.", code="unknown_template",
                              details={"fields": {"template_id": ["Not a template of this server."]}})
    with db.transaction() as s:
        if accepted:
            stmt = dialect_insert(s, WeChatSubscription.__table__).values(
                user_id=user.id, template_id=template_id, remaining=1, updated_at=utcnow())
            s.execute(stmt.on_conflict_do_update(
                index_elements=["user_id", "template_id"],
                set_={"remaining": WeChatSubscription.remaining + 1, "updated_at": utcnow()}))
        remaining = s.scalar(select(WeChatSubscription.remaining).where(
            WeChatSubscription.user_id == user.id, WeChatSubscription.template_id == template_id)) or 0
    return {"template_id": template_id, "remaining": remaining}


def take_one(s: Any, *, user_id: int, template_id: str) -> bool:
    """Use one message of the user's quota (inside the caller's transaction); False when none is left."""
    used = s.execute(update(WeChatSubscription).where(
        WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id,
        WeChatSubscription.remaining > 0).values(remaining=WeChatSubscription.remaining - 1, updated_at=utcnow()))
    return used.rowcount > 0


def give_back(s: Any, *, user_id: int, template_id: str) -> None:
    """Return a message taken by `take_one` whose sending failed for a reason not the user's."""
    s.execute(update(WeChatSubscription).where(
        WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id)
        .values(remaining=WeChatSubscription.remaining + 1, updated_at=utcnow()))


def clear(s: Any, *, user_id: int, template_id: str) -> None:
    """WeChat said the user refused or has no quota left (43101): our count was too high."""
    s.execute(update(WeChatSubscription).where(
        WeChatSubscription.user_id == user_id, WeChatSubscription.template_id == template_id)
        .values(remaining=0, updated_at=utcnow()))
