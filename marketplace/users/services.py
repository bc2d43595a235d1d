"""User accounts and access tokens: register, log in, revoke, profiles."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from core import prepared
from core.db import db, utcnow
from core.errors import ApiError, Conflict, NotFound, Unauthorized
from marketplace.models import Token, User
from marketplace.security import hash_password, new_token, token_digest, verify_password
from marketplace.signals import emit_token_revoked


def register_user(*, username: str, password: str, nickname: str | None = None,
                  role: str = "user") -> User:
    """Create an account; the username must be free."""
    user = User(username=username, password_hash=hash_password(password),
                nickname=nickname or username, role=role, bio="")
    try:
        with db.transaction() as s:
            s.add(user)
    except IntegrityError:
        raise Conflict("This username is taken.", code="username_taken",
                       details={"fields": {"username": ["Already taken."]}}) from None
    return user


def issue_token(*, username: str, password: str) -> tuple[str, Token]:
    """Check the credentials and hand out a new access token (the only time it is seen in clear)."""
    with db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password):
            raise Unauthorized("Wrong username or password.", code="invalid_credentials")
        return add_token(s, user)  # type: ignore[arg-type]


def add_token(s: Session, user: User) -> tuple[str, Token]:
    """A new access token for `user` inside the caller's transaction; 403 `banned` for a banned user."""
    if user.is_banned():
        raise ApiError("This account is banned.", status=403, code="banned",
                       details={"until": user.banned_until.isoformat() if user.banned_until else None})
    raw = new_token()
    token = Token(user=user, token_hash=token_digest(raw),
                  expires_at=utcnow() + timedelta(seconds=current_app.config["TOKEN_TTL_SECONDS"]))
    s.add(token)
    return raw, token


def live_token(raw: str) -> Token | None:
    """The token row of an unexpired, unrevoked token (its user may still be banned), or None."""
    return db.session.scalar(select(Token).where(Token.token_hash == token_digest(raw),
                                                 Token.live_condition(utcnow())))


#: the user row of a live token
_LIVE_TOKEN_USER = (select(User.__table__).join(Token.__table__, Token.user_id == User.id)
                    .where(Token.token_hash == bindparam("digest"), Token.live_condition(bindparam("now"))))


def user_for_token(raw: str) -> User | None:
    """The user a live token belongs to, unless banned; None otherwise.

    Every authenticated request asks this first, so the row is read with Core in autocommit (the ORM's
    query machinery and a transaction's round trips cost more than the rest of a REST send's auth:
    bench/rest_send.py) and merged into the request's session without a load: the same instance its
    queries return.
    """
    with db.read() as conn:
        rows = prepared.execute(conn, _LIVE_TOKEN_USER, {"digest": token_digest(raw), "now": utcnow()})
    if not rows:
        return None
    user = User(**rows[0]._asdict())
    if user.is_banned():
        return None
    make_transient_to_detached(user)
    return db.session.merge(user, load=False)


def revoke_token(*, raw: str) -> None:
    """Make a token stop working at once, over REST and WebSocket."""
    with db.transaction() as s:
        token = s.scalar(select(Token).where(Token.token_hash == token_digest(raw),
                                             Token.revoked_at.is_(None)))
        if token is None:
            return
        token.revoked_at = utcnow()
        user_id, token_id = token.user_id, token.id
    emit_token_revoked(user_id=user_id, token_id=token_id)


def update_profile(*, user: User, changes: dict[str, Any]) -> User:
    """Change the caller's nickname, avatar or bio."""
    with db.transaction() as s:
        user = s.merge(user)
        for key, value in changes.items():
            setattr(user, key, value)
    return user


def get_user(*, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user
