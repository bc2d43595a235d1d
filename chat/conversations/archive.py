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
from sqlalchemy import ColumnElement, and_, func, select, update

from chat.tables import groups_t
from core.db import db, utcnow

#: listing statuses after which a listing takes no deal and its item chats start ageing
FINAL_STATUSES = frozenset({"sold", "given", "withdrawn", "removed"})
DEFAULT_ARCHIVE_AFTER_DAYS = 30


def archive_cutoff(now: datetime | None = None) -> datetime:
    """Item groups whose listing became final at or before this moment are archived."""
    days = current_app.config.get("CHAT_ARCHIVE_AFTER_DAYS", DEFAULT_ARCHIVE_AFTER_DAYS)
    return (now or utcnow()) - timedelta(days=days)


def archived_clause(groups, listings, cutoff: datetime | ColumnElement) -> ColumnElement[bool]:
    """SQL: the group (joined to its listing, outer join) is archived at `cutoff` (a value or a bound parameter).

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


def record_listing_status(*, listing_id: int, new_status: str, now: datetime | None = None) -> None:
    """Stamp `listing_final_at` on the listing's item groups when it becomes final (the first final
    status starts the clock), or clear it when it leaves one; groups already right are left alone.

    The group rows are locked in ascending id first, the order every multi-group unit of work takes.
    """
    final = new_status in FINAL_STATUSES
    stamp = groups_t.c.listing_final_at
    with db.transaction() as s:
        ids = s.scalars(select(groups_t.c.id)
                        .where(groups_t.c.listing_id == listing_id, groups_t.c.kind == "item",
                               stamp.is_(None) if final else stamp.is_not(None))
                        .order_by(groups_t.c.id).with_for_update()).all()
        if ids:
            s.execute(update(groups_t).where(groups_t.c.id.in_(ids))
                      .values(listing_final_at=(now or utcnow()) if final else None))
