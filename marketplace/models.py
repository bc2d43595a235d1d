"""Typed SQLAlchemy models of the marketplace."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    nickname: Mapped[str] = mapped_column(String(32))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    bio: Mapped[str] = mapped_column(String(500), default="")
    role: Mapped[str] = mapped_column(String(16), default="user")
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    # Kept up to date when a review is written, so profiles cost no aggregate query.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('user', 'admin')", name="role"),
        # Only the few banned users: listing visibility reads this set on every search.
        Index("ix_users_banned", "id", sqlite_where=banned_at.column.is_not(None),  # type: ignore[attr-defined]
              postgresql_where=banned_at.column.is_not(None)),  # type: ignore[attr-defined]
    )

    @property
    def rating_avg(self) -> float | None:
        return round(self.rating_total / self.rating_count, 2) if self.rating_count else None

    def is_banned(self, now: datetime | None = None) -> bool:
        if self.banned_at is None:
            return False
        return self.banned_until is None or self.banned_until > (now or utcnow())

    @classmethod
    def banned_condition(cls, now: datetime | None = None) -> ColumnElement[bool]:
        """SQL twin of `is_banned`: the user is banned at `now` (default: this moment)."""
        return and_(cls.banned_at.is_not(None), or_(cls.banned_until.is_(None), cls.banned_until > (now or utcnow())))


class Token(Base):
    """An access token, stored only as its SHA-256 digest."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @classmethod
    def live_condition(cls, now: Any) -> ColumnElement[bool]:
        """The token is neither revoked nor expired at `now` (a datetime, or a bound parameter)."""
        return and_(cls.revoked_at.is_(None), cls.expires_at > now)


class WsTicket(Base):
    """A single-use ticket for one /ws handshake (`?ticket=`), stored only as its SHA-256 digest, so no
    access token needs to go into a URL. Any process redeems it (the database is shared)."""

    __tablename__ = "ws_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the access token it was issued from: the socket lives on that token (revoking it closes the socket)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Listing(Base):
    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(16))
    images: Mapped[list] = mapped_column(JSON, default=list)
    city: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The buyer or recipient the listing is reserved for, sold or given to.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(String(500))
    #: the status an admin's takedown moved the listing from; a restore returns it there
    removed_from: Mapped[str | None] = mapped_column(String(16))
    favorite_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    seller: Mapped[User] = relationship(foreign_keys=[seller_id], lazy="joined")

    @property
    def cover_url(self) -> str | None:
        """The first image, shown on cards and in the conversation list."""
        return self.images[0] if self.images else None

    __table_args__ = (
        CheckConstraint("kind IN ('sale', 'donation')", name="kind"),
        CheckConstraint("(kind = 'sale' AND price_cents > 0) OR (kind = 'donation' AND price_cents = 0)",
                        name="price_by_kind"),
        Index("ix_listings_status_created", "status", "created_at"),
        Index("ix_listings_status_price", "status", "price_cents"),
        Index("ix_listings_seller_status", "seller_id", "status"),
        Index("ix_listings_category_status", "category", "status"),
    )


class Favorite(Base):
    __tablename__ = "favorites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id], lazy="joined")
    listing: Mapped[Listing] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("listing_id", "reviewer_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    @property
    def role(self) -> str:
        """The reviewer's side of the deal: "seller" or "buyer"."""
        return "seller" if self.reviewer_id == self.listing.seller_id else "buyer"


class Block(Base):
    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    blocked: Mapped[User] = relationship(foreign_keys=[blocked_id], lazy="joined")


class Claim(Base):
    """A user's request to receive a donation listing (see marketplace/donations/state.py)."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    claimant: Mapped[User] = relationship(lazy="joined")
    listing: Mapped[Listing] = relationship(lazy="select")

    #: a pending or accepted claim is "open": one per user per listing, and it counts toward the limit
    OPEN_STATUSES = ("pending", "accepted")
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled', 'completed', 'no_show')",
                        name="status"),
        # One open claim per user per listing, enforced by the database as a backstop.
        Index("uq_claims_open_listing_claimant", "listing_id", "claimant_id", unique=True,
              sqlite_where=status.column.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
              postgresql_where=status.column.in_(OPEN_STATUSES)),  # type: ignore[attr-defined]
        # The caller's claims, newest first, and the open-claim count.
        Index("ix_claims_claimant_status_created", "claimant_id", "status", "created_at"),
    )


class Upload(Base):
    """A stored media file: served at /api/v1/uploads/<name> with the content type sniffed at upload."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One admin action or one read of a private conversation: who, what, on which target, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_audit_log_created", "created_at", "id"),
        Index("ix_audit_log_actor_created", "actor_id", "created_at"),
        Index("ix_audit_log_action_created", "action", "created_at"),
    )


class Report(Base):
    """A user's report of a user, listing or message, and how an admin resolved it."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(BigInteger)
    #: the user behind the target when reported (the user, the listing's seller, the message's sender)
    target_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: what the reporter saw, kept as evidence (a message may be recalled, a listing edited)
    target_summary: Mapped[str] = mapped_column(String(500), default="")
    target_context: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")

    __table_args__ = (
        CheckConstraint("target_type IN ('user', 'listing', 'message')", name="target_type"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("resolution IS NULL OR resolution IN ('dismiss', 'takedown', 'ban')", name="resolution"),
        # One open report per reporter and target, enforced by the database under concurrency.
        Index("uq_reports_open_reporter_target", "reporter_id", "target_type", "target_id", unique=True,
              sqlite_where=status.column == "open", postgresql_where=status.column == "open"),  # type: ignore[attr-defined]
        Index("ix_reports_status_created", "status", "created_at"),
        Index("ix_reports_target_status", "target_type", "target_id", "status"),
    )


class WeChatIdentity(Base):
    """The WeChat user (openid of our mini-program, unionid when WeChat gives one) an account logs in as."""

    __tablename__ = "wechat_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: one WeChat identity per account, and one account per WeChat identity
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    appid: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("appid", "openid"),)


class WeChatSubscription(Base):
    """A user's one-time subscribe-message quota for a template: each accepted request is one message."""

    __tablename__ = "wechat_subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WeChatAccessToken(Base):
    """The app's current access token, shared by every process (fetched from stable_token)."""

    __tablename__ = "wechat_access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
