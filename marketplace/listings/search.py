"""Listing search: keyword, filters, sort orders and who may list which statuses."""
from __future__ import annotations

from sqlalchemy import Select, select

from core.db import db
from core.errors import Unauthorized
from core.pagination import Page, paginate
from marketplace.listings.search_index import keyword_filter
from marketplace.listings.services import ON_MARKET, hidden_by_ban, is_admin
from marketplace.listings.state import PUBLIC
from marketplace.models import Listing, User

# Ties are broken by id, newest first, so paging never repeats or skips a listing.
ORDERS = {
    "newest": (Listing.created_at.desc(), Listing.id.desc()),
    "price_asc": (Listing.price_cents.asc(), Listing.id.desc()),
    "price_desc": (Listing.price_cents.desc(), Listing.id.desc()),
}


def _keyword(stmt: Select, q: str) -> Select:
    # A substring of title or description, served by each database's trigram index (search_index).
    return stmt.where(keyword_filter(db.engine.dialect.name, q))


def search_listings(*, viewer: User | None, page: int, page_size: int, status: str = "active",
                    q: str | None = None, kind: str | None = None, category: str | None = None,
                    city: str | None = None, seller_id: int | None = None,
                    min_price: int | None = None, max_price: int | None = None,
                    sort: str = "newest") -> Page:
    """One page of listings in `status` matching every filter given.

    Public statuses are searchable by anyone; any other status lists only the
    caller's own listings (all of them for admins) and needs a token. The listings
    of a seller banned right now are left out for everyone but admins.
    """
    stmt = select(Listing).where(Listing.status == status)
    if status not in PUBLIC:
        if viewer is None:
            raise Unauthorized(f"Log in to list {status} listings.")
        if not is_admin(viewer):
            stmt = stmt.where(Listing.seller_id == viewer.id)
    if status in ON_MARKET and not is_admin(viewer):
        stmt = stmt.where(~hidden_by_ban())
    if q:
        stmt = _keyword(stmt, q)
    for column, value in ((Listing.kind, kind), (Listing.category, category),
                          (Listing.city, city), (Listing.seller_id, seller_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if min_price is not None:
        stmt = stmt.where(Listing.price_cents >= min_price)
    if max_price is not None:
        stmt = stmt.where(Listing.price_cents <= max_price)
    return paginate(db.session, stmt.order_by(*ORDERS[sort]), page=page, page_size=page_size)  # type: ignore[arg-type]
