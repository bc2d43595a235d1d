"""Blocks between users: stored here, enforced by every service that connects two users."""
from __future__ import annotations

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from core.db import db
from core.errors import Forbidden, ValidationError
from core.pagination import Page, paginate
from marketplace.models import Block, User
from marketplace.users.services import get_user


def block_user(*, actor: User, user_id: int) -> None:
    """Block a user (idempotent)."""
    if user_id == actor.id:
        raise ValidationError("You cannot block yourself.", details={"fields": {"user_id": ["Is you."]}})
    get_user(user_id=user_id)
    with db.transaction() as s:
        if s.get(Block, (actor.id, user_id)) is None:
            s.add(Block(blocker_id=actor.id, blocked_id=user_id))


def unblock_user(*, actor: User, user_id: int) -> None:
    """Lift a block (idempotent)."""
    with db.transaction() as s:
        s.execute(delete(Block).where(Block.blocker_id == actor.id, Block.blocked_id == user_id))


def list_blocks(*, actor: User, page: int, page_size: int) -> Page:
    stmt = (select(Block).where(Block.blocker_id == actor.id)
            .order_by(Block.created_at.desc(), Block.blocked_id.desc()))
    return paginate(db.session, stmt, page=page, page_size=page_size)


def blocked_between(s: Session, a_id: int, b_id: int) -> bool:
    """True when either user has blocked the other (read in `s`)."""
    return bool(s.scalar(select(exists().where(or_(
        and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
        and_(Block.blocker_id == b_id, Block.blocked_id == a_id))))))


def is_blocked_between(a_id: int, b_id: int) -> bool:
    """True when either user has blocked the other."""
    return blocked_between(db.session, a_id, b_id)


def ensure_not_blocked(*, actor_id: int, other_id: int) -> None:
    """403 when `other_id` has blocked the actor (or the actor blocked them)."""
    if is_blocked_between(actor_id, other_id):
        raise Forbidden("You cannot interact with this user.", code="blocked")
