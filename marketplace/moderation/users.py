"""Admin user moderation: find users, ban them (every token revoked, every socket closed) and lift bans."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.pagination import Page, paginate
from marketplace.audit import record_audit
from marketplace.models import Token, User
from marketplace.signals import emit_user_banned

USER_STATUSES = ("active", "banned")


def list_users(*, page: int, page_size: int, q: str | None = None, status: str | None = None) -> Page:
    """Users matching `q` (a substring of username or nickname) and `status` (banned right now or not),
    newest first."""
    stmt: Select = select(User)
    if q:
        stmt = stmt.where(or_(User.username.icontains(q, autoescape=True),
                              User.nickname.icontains(q, autoescape=True)))
    if status == "banned":
        stmt = stmt.where(User.banned_condition())
    elif status == "active":
        stmt = stmt.where(~User.banned_condition())
    return paginate(db.session, stmt.order_by(User.created_at.desc(), User.id.desc()),
                    page=page, page_size=page_size)


def _lock_user(s: Session, user_id: int) -> User:
    # NO KEY UPDATE: rows that merely reference the user (messages, tokens) are not held up meanwhile.
    user = s.scalar(select(User).where(User.id == user_id).with_for_update(of=User, key_share=True)
                    .execution_options(populate_existing=True))
    if user is None:
        raise NotFound("No such user.")
    return user


def apply_ban(s: Session, *, admin: User, user_id: int, reason: str, until: datetime | None = None,
              details: dict | None = None) -> User:
    """Ban a user inside the caller's transaction: record the ban, revoke every live token, audit it.

    403 `cannot_ban_self` / `cannot_ban_admin`; 400 when `until` is not in the future. Banning a
    banned user again replaces the reason and the end. The caller commits, then calls
    `emit_user_banned` (which closes every socket of the user with 4403).
    """
    if until is not None and until <= utcnow():
        message = "until must be in the future."
        raise ValidationError(message, details={"fields": {"until": [message]}})
    if user_id == admin.id:
        raise Forbidden("You cannot ban yourself.", code="cannot_ban_self")
    user = _lock_user(s, user_id)
    if user.role == "admin":
        raise Forbidden("Administrators cannot be banned.", code="cannot_ban_admin")
    now = utcnow()
    if not user.is_banned(now):
        user.banned_at = now
    user.banned_until, user.ban_reason = until, reason
    revoked = s.execute(update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))  # type: ignore[attr-defined]
                        .values(revoked_at=now)).rowcount
    record_audit(s, actor_id=admin.id, action="user.ban", target_type="user", target_id=user.id,
                 details={"reason": reason, "until": until.isoformat() if until else None,
                          "revoked_tokens": revoked, **(details or {})})
    return user


def ban_user(*, admin: User, user_id: int, reason: str, until: datetime | None = None) -> User:
    """Ban a user until `until` (None: until lifted): their tokens stop working and their sockets close at once.

    Only the ban is announced after commit: it ends every session of the user (4403), so a
    per-token revocation (4401) would only race it.
    """
    with db.transaction() as s:
        user = apply_ban(s, admin=admin, user_id=user_id, reason=reason, until=until)
    emit_user_banned(user_id=user.id)
    return user


def unban_user(*, admin: User, user_id: int) -> User:
    """Lift a ban (409 `not_banned` when the user is not banned right now); the user logs in again."""
    with db.transaction() as s:
        user = _lock_user(s, user_id)
        if not user.is_banned():
            raise Conflict("This user is not banned.", code="not_banned")
        record_audit(s, actor_id=admin.id, action="user.unban", target_type="user", target_id=user.id,
                     details={"reason": user.ban_reason,
                              "until": user.banned_until.isoformat() if user.banned_until else None})
        user.banned_at = user.banned_until = user.ban_reason = None
    return user
