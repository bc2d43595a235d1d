"""Typed SQLAlchemy models of chat: groups, members, messages and the per-user inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from marketplace.models import BigId, Listing, User

GROUP_KINDS = ("item", "direct", "room", "group")
ROLES = ("owner", "admin", "member")
#: kinds whose messages are fanned out to every member's inbox (rooms are live-only)
INBOX_KINDS = frozenset({"item", "direct", "group"})


class ChatGroup(Base):
    """A conversation: one buyer about one listing (item), two users (direct), a private group of
    users (group) or a public room."""

    __tablename__ = "chat_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "<smaller user id>:<larger user id>" for direct groups: one group per pair.
    direct_key: Mapped[str | None] = mapped_column(String(41), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # No foreign key: messages point at their group, and the cycle buys nothing.
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    #: latest activity (creation, then each message): conversation lists order by it
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: item groups: when chat saw the listing become final (sold, given, withdrawn, removed); cleared
    #: when it leaves a final status. Archived once older than CHAT_ARCHIVE_AFTER_DAYS (chat/conversations/archive.py).
    listing_final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing | None] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("kind IN ('item', 'direct', 'room', 'group')", name="kind"),
        UniqueConstraint("listing_id", "buyer_id"),
        Index("ix_chat_groups_kind_activity", "kind", "last_message_at"),
    )


def _joined_at(context) -> datetime:
    """Default of ChatMember.activity_at: exactly the row's joined_at (the conversation list relies on it)."""
    return context.get_current_parameters().get("joined_at") or utcnow()


class ChatMember(Base):
    __tablename__ = "chat_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: item/direct groups: the group's last_message_at, copied by each send batch (`batch_sql.finish`; joined_at
    #: until the first message), so a user's conversation list is one range of an index
    activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_joined_at)
    #: DELETE /conversations: hidden for this member while the group's last_seq is not above it
    hidden_until_seq: Mapped[int | None] = mapped_column(Integer)
    #: PUT /conversations/{id}: a muted chat is left out of the unread badge and never notified
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: PUT /conversations/{id}: pinned chats head the conversation list (at most MAX_PINNED per user)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: groups and rooms: the member's sends are refused (403 `muted`) until then
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the newest seq whose message mentioned this member (`mentioned` in the list while above the read marker)
    mention_seq: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
        Index("ix_chat_members_user_group", "user_id", "group_id"),
        Index("ix_chat_members_user_activity", "user_id", "activity_at", "group_id"),
        # The few pinned chats of a user, read by every first page of the conversation list.
        Index("ix_chat_members_user_pinned", "user_id", sqlite_where=pinned.column.is_(True),  # type: ignore[attr-defined]
              postgresql_where=pinned.column.is_(True)),  # type: ignore[attr-defined]
    )


class ChatKick(Base):
    """A user kicked out of a room, who cannot join it again before `until`."""

    __tablename__ = "chat_kicks"

    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: system
    type: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict] = mapped_column(JSON)
    ext: Mapped[dict | None] = mapped_column(JSON)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the message this one answers, and a snapshot of it ({id, seq, sender, type, preview, recalled})
    reply_to_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    reply_to: Mapped[dict | None] = mapped_column(JSON)
    #: the user ids mentioned, or "all"
    mentions: Mapped[list | str | None] = mapped_column(JSON)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Server defaults only: the send path's insert binds no value for them.
    revision: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        UniqueConstraint("group_id", "seq"),
        UniqueConstraint("sender_id", "client_id"),
    )


class InboxCounter(Base):
    """The last inbox position handed out to a user; taken under its row lock."""

    __tablename__ = "chat_inbox_counters"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_pos: Mapped[int] = mapped_column(BigInteger, default=0)
    #: unread messages in the user's item, direct and group chats that are not muted (the tab badge), kept
    #: up to date under this row's lock by chat/inbox/unread.py
    unread_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: one more with every change of unread_total: a client keeps the badge of the highest version it has seen,
    #: whichever of an `unread` event and a conversation page it gets first
    unread_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


#: what an inbox entry is: a new message, an edit of one, or a change of its reactions
INBOX_MESSAGE, INBOX_EDIT, INBOX_REACTION = "m", "e", "r"


class InboxEntry(Base):
    """One message of an item, direct or user group, or a change of one, at a gap-free per-user position."""

    __tablename__ = "chat_inbox"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    pos: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(1), server_default=INBOX_MESSAGE)

    __table_args__ = (Index("ix_chat_inbox_message", "message_id"),)


class ChatReaction(Base):
    """One user's emoji reaction to one message."""

    __tablename__ = "chat_reactions"

    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatNotification(Base):
    """A member's notification about one conversation: pending while `due_at` is set (chat/notify/).

    One row per (user, group): messages arriving while one is pending fold into it, and after one is
    sent the next is not due before `quiet_until` (one per conversation per NOTIFY_WINDOW_S). A worker
    claims due rows by setting `lease_until`/`lease_token`; a worker that dies leaves the lease to expire.
    """

    __tablename__ = "chat_notifications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"), primary_key=True)
    #: the newest message it is about, and how many arrived since the last one went out
    message_id: Mapped[int] = mapped_column(BigInteger)
    pending_count: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quiet_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    #: what happened to the last one: sent, online, read, muted, blocked, no_openid, no_quota, refused, failed
    outcome: Mapped[str | None] = mapped_column(String(16))
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # The worker's scan: only pending rows, in due order.
        Index("ix_chat_notifications_due", "due_at", sqlite_where=due_at.column.is_not(None),  # type: ignore[attr-defined]
              postgresql_where=due_at.column.is_not(None)),  # type: ignore[attr-defined]
    )


class Offer(Base):
    """A buyer's price offer on a sale listing, made in their item group (see chat/offers/)."""

    __tablename__ = "chat_offers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    buyer: Mapped[User] = relationship(lazy="joined")

    STATUSES = ("pending", "accepted", "declined", "withdrawn")
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name="status"),
        CheckConstraint("price_cents > 0", name="price_positive"),
        # One pending offer per buyer and listing, enforced by the database as a backstop.
        Index("uq_chat_offers_pending_listing_buyer", "listing_id", "buyer_id", unique=True,
              sqlite_where=status.column == "pending", postgresql_where=status.column == "pending"),  # type: ignore[attr-defined]
        # A group's offers, newest first; a listing's pending offers (declined when one is accepted).
        Index("ix_chat_offers_group_created", "group_id", "created_at"),
        Index("ix_chat_offers_listing_status", "listing_id", "status"),
    )
