"""Favorites ("想要"): idempotent want-list entries and the count kept on each listing."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.db import db, dialect_insert, utcnow
from core.pagination import Page, paginate
from marketplace.listings.services import load_visible, visible_to
from marketplace.models import Favorite, Listing, User


def _insert_ignoring_duplicate(s: Session, *, user_id: int, listing_id: int) -> bool:
    """Insert the favorite unless it exists (ON CONFLICT DO NOTHING); True when a row was inserted."""
    stmt = dialect_insert(s, Favorite).values(user_id=user_id, listing_id=listing_id, created_at=utcnow())
    inserted = s.execute(stmt.on_conflict_do_nothing().returning(Favorite.listing_id)).first()
    return inserted is not None


def _bump_count(s: Session, *, listing_id: int, delta: int) -> None:
    # Atomic in SQL; updated_at stays: wanting an item does not edit it.
    s.execute(update(Listing).where(Listing.id == listing_id)
              .values(favorite_count=Listing.favorite_count + delta, updated_at=Listing.updated_at))


def _state(s: Session, *, listing_id: int, favorited: bool) -> dict[str, Any]:
    count = s.scalar(select(Listing.favorite_count).where(Listing.id == listing_id))
    return {"listing_id": listing_id, "favorited": favorited, "favorite_count": count}


def favorite_listing(*, actor: User, listing_id: int) -> dict[str, Any]:
    """Add a listing the caller can see to their want-list (idempotent)."""
    with db.transaction() as s:
        load_visible(s, listing_id=listing_id, viewer=actor)
        if _insert_ignoring_duplicate(s, user_id=actor.id, listing_id=listing_id):
            _bump_count(s, listing_id=listing_id, delta=1)
        return _state(s, listing_id=listing_id, favorited=True)


def unfavorite_listing(*, actor: User, listing_id: int) -> dict[str, Any]:
    """Drop a listing from the caller's want-list (idempotent)."""
    with db.transaction() as s:
        load_visible(s, listing_id=listing_id, viewer=actor)
        deleted = s.execute(delete(Favorite).where(Favorite.user_id == actor.id,  # type: ignore[attr-defined]
                                                   Favorite.listing_id == listing_id)).rowcount
        if deleted:
            _bump_count(s, listing_id=listing_id, delta=-1)
        return _state(s, listing_id=listing_id, favorited=False)


def list_favorites(*, actor: User, page: int, page_size: int) -> Page:
    """The caller's favorited listings they can still see, most recently favorited first."""
    stmt = (select(Listing)
            .join(Favorite, Favorite.listing_id == Listing.id)
            .where(Favorite.user_id == actor.id, visible_to(actor))
            .order_by(Favorite.created_at.desc(), Favorite.listing_id.desc()))
    return paginate(db.session, stmt, page=page, page_size=page_size)
