"""Temporary item chats: archived once their listing has been final for CHAT_ARCHIVE_AFTER_DAYS.

Archiving is lazy: nothing runs on a timer. Chat's listing-event receiver stamps
`chat_groups.listing_final_at` when a listing reaches a final status (and clears it when the
listing leaves one, e.g. an admin restores it); whoever asks later compares that stamp with
the clock. An archived group is read-only (403 `archived` for sends) and out of the default
conversation list; its history stays readable.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, literal, select, update
from sqlalchemy.orm import Session

from chat.models import ChatGroup
from core.db import UTCDateTime, db, utcnow
from core.errors import Forbidden
from marketplace.models import Listing

groups_t = ChatGroup.__table__
listings_t = Listing.__table__

#: listing statuses after which a listing takes no deal and its item chats start ageing
FINAL_STATUSES = frozenset({"sold", "given", "withdrawn", "removed"})
DEFAULT_ARCHIVE_AFTER_DAYS = 30


def archive_cutoff(now: datetime | None = None) -> datetime:
    """Item groups whose listing became final at or before this moment are archived."""
    days = current_app.config.get("CHAT_ARCHIVE_AFTER_DAYS", DEFAULT_ARCHIVE_AFTER_DAYS)
    return (now or utcnow()) - timedelta(days=days)


def archived_clause(groups, listings, cutoff: datetime) -> ColumnElement[bool]:
    """SQL: the group (joined to its listing, outer join) is archived at `cutoff`.

    The listing's status is checked too, so a stamp left behind by a failed receiver never
    archives a listing that is back on the market.
    """
    return and_(groups.c.listing_final_at.is_not(None), groups.c.listing_final_at <= cutoff,
                func.coalesce(listings.c.status, "").in_(sorted(FINAL_STATUSES)))


def is_archived(*, listing_final_at: datetime | None, listing_status: str | None,
                now: datetime | None = None) -> bool:
    """The same rule as `archived_clause`, for a row already loaded."""
    return (listing_final_at is not None and listing_status in FINAL_STATUSES
            and listing_final_at <= archive_cutoff(now))


def ensure_not_archived(s: Session, *, group_id: int, now: datetime | None = None) -> None:
    """403 `archived` when the group is an archived item chat (for the send path, after its lock)."""
    row = s.execute(select(groups_t.c.listing_final_at, listings_t.c.status)
                    .select_from(groups_t.outerjoin(listings_t, listings_t.c.id == groups_t.c.listing_id))
                    .where(groups_t.c.id == group_id)).one_or_none()
    if row is not None and is_archived(listing_final_at=row.listing_final_at, listing_status=row.status, now=now):
        raise Forbidden("This conversation is archived: its listing closed long ago. History stays readable.",
                        code="archived")


def record_listing_status(*, listing_id: int, new_status: str, now: datetime | None = None) -> None:
    """Stamp (first final status wins) or clear `listing_final_at` on every item group of the listing.

    The group rows are locked in ascending id first, the order every multi-group unit of work takes.
    """
    with db.transaction() as s:
        ids = s.scalars(select(groups_t.c.id).where(groups_t.c.listing_id == listing_id, groups_t.c.kind == "item")
                        .order_by(groups_t.c.id).with_for_update()).all()
        if not ids:
            return
        if new_status in FINAL_STATUSES:
            value = func.coalesce(groups_t.c.listing_final_at, literal(now or utcnow(), UTCDateTime()))
        else:
            value = None
        s.execute(update(groups_t).where(groups_t.c.id.in_(ids)).values(listing_final_at=value))
