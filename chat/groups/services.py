"""Item and direct groups: open an inquiry or a direct chat, list and read the caller's groups."""
from __future__ import annotations

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chat.groups.access import add_members, direct_key, require_member
from chat.groups.schemas import GroupView
from chat.models import ChatGroup, ChatMember
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.pagination import Page
from marketplace.listings.services import can_see
from marketplace.models import Listing, User
from marketplace.users.blocks import ensure_not_blocked

MEMBERS_SHOWN = 100


def open_inquiry(*, buyer: User, listing_id: int) -> tuple[GroupView, bool]:
    """The item group of (listing, buyer), created on first call (True) with the seller and buyer in it.

    403 `own_listing` for the seller, 403 `blocked` between buyer and seller, 404 for a missing or
    hidden listing (in review, taken down, or its seller banned); a new group needs an `active` listing
    (409 `listing_not_active`), while an existing group is returned whatever the listing's status.
    """
    try:
        with db.transaction() as s:
            listing = s.scalar(select(Listing).where(Listing.id == listing_id)
                               .execution_options(populate_existing=True))
            if listing is None:
                raise NotFound("No such listing.")
            if listing.seller_id == buyer.id:
                raise Forbidden("You cannot inquire about your own listing.", code="own_listing")
            ensure_not_blocked(actor_id=buyer.id, other_id=listing.seller_id)
            existing = _item_group_id(s, listing_id=listing_id, buyer_id=buyer.id)
            if existing is not None:
                return get_group(user=buyer, group_id=existing), False
            if not can_see(listing, buyer):  # hidden by review, takedown or the seller's ban: 404
                raise NotFound("No such listing.")
            if listing.status != "active":
                raise Conflict("This listing takes no new inquiries.", code="listing_not_active",
                               details={"status": listing.status})
            group = ChatGroup(kind="item", listing_id=listing.id, buyer_id=buyer.id, seller_id=listing.seller_id,
                              created_by=buyer.id, description="", read_only=False, last_seq=0)
            s.add(group)
            s.flush()
            add_members(s, group_id=group.id, roles={listing.seller_id: "member", buyer.id: "member"})
    except IntegrityError:  # the same buyer's concurrent inquiry created it first
        existing = _item_group_id(db.session, listing_id=listing_id, buyer_id=buyer.id)
        if existing is None:
            raise
        return get_group(user=buyer, group_id=existing), False
    return get_group(user=buyer, group_id=group.id), True


def open_direct(*, user: User, peer_id: int) -> tuple[GroupView, bool]:
    """The one direct group of the caller and `peer_id`, created on first call (True)."""
    if peer_id == user.id:
        raise ValidationError("You cannot open a direct chat with yourself.",
                              details={"fields": {"user_id": ["Is you."]}})
    key = direct_key(user.id, peer_id)
    try:
        with db.transaction() as s:
            if s.get(User, peer_id) is None:
                raise NotFound("No such user.")
            ensure_not_blocked(actor_id=user.id, other_id=peer_id)
            existing = s.scalar(select(ChatGroup.id).where(ChatGroup.direct_key == key))
            if existing is not None:
                return get_group(user=user, group_id=existing), False
            group = ChatGroup(kind="direct", direct_key=key, created_by=user.id, description="",
                              read_only=False, last_seq=0)
            s.add(group)
            s.flush()
            add_members(s, group_id=group.id, roles={user.id: "member", peer_id: "member"})
    except IntegrityError:  # the pair's concurrent request created it first
        existing = db.session.scalar(select(ChatGroup.id).where(ChatGroup.direct_key == key))
        if existing is None:
            raise
        return get_group(user=user, group_id=existing), False
    return get_group(user=user, group_id=group.id), True


def list_groups(*, user: User, page: int, page_size: int, kind: str | None = None) -> Page:
    """The groups the caller belongs to, latest activity first (one query for the page)."""
    stmt = (select(ChatGroup, ChatMember.last_read_seq)
            .join(ChatMember, and_(ChatMember.group_id == ChatGroup.id, ChatMember.user_id == user.id)))
    if kind is not None:
        stmt = stmt.where(ChatGroup.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(ChatGroup.last_message_at.desc(), ChatGroup.id.desc())
                              .limit(page_size).offset((page - 1) * page_size)).all()
    return Page(items=[GroupView(group, last_read) for group, last_read in rows],
                page=page, page_size=page_size, total=total or 0)


def get_group(*, user: User, group_id: int) -> GroupView:
    """A group the caller belongs to (else 404), with its members, owners and admins first."""
    s = db.session
    group, member = require_member(s, group_id=group_id, user_id=user.id)
    rank = case((ChatMember.role == "owner", 0), (ChatMember.role == "admin", 1), else_=2)
    members = s.scalars(select(ChatMember).where(ChatMember.group_id == group_id)
                        .order_by(rank, ChatMember.joined_at, ChatMember.user_id).limit(MEMBERS_SHOWN)).all()
    count = len(members)
    if count == MEMBERS_SHOWN:
        count = s.scalar(select(func.count()).where(ChatMember.group_id == group_id))  # type: ignore[assignment]
    return GroupView(group, member.last_read_seq, members=list(members), member_count=count)


def _item_group_id(s: Session, *, listing_id: int, buyer_id: int) -> int | None:
    return s.scalar(select(ChatGroup.id).where(ChatGroup.listing_id == listing_id, ChatGroup.buyer_id == buyer_id))
