"""A conversation as its member sees it, built from one row of the list statement."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from flask import current_app

from chat.conversations.archive import is_archived
from chat.conversations.previews import preview

OnlineCheck = Callable[[int], bool]


def presence_check(peer_ids: Iterable[int | None]) -> OnlineCheck:
    """Whether each of these peers has a socket open in any process: one presence lookup for the page."""
    presence = current_app.extensions.get("presence")
    wanted = {uid for uid in peer_ids if uid is not None}
    if presence is None or not wanted:
        return lambda _user_id: False
    return presence.online(wanted).__contains__


def role_of(row: Any, user_id: int) -> str:
    """`buyer`/`seller` in item chats; the member role (owner, admin, member) otherwise."""
    if row.kind == "item":
        if user_id == row.buyer_id:
            return "buyer"
        if user_id == row.seller_id:
            return "seller"
    return row.role


def unread_count(row: Any) -> int:
    """Messages after the read marker, or after the point the caller deleted the conversation if later."""
    seen = max(row.last_read_seq, row.hidden_until_seq or 0)
    return max(row.last_seq - seen, 0)


def mentioned(row: Any) -> bool:
    """A message after the member's read marker mentions them (by id or as "all")."""
    return (row.mention_seq or 0) > max(row.last_read_seq, row.hidden_until_seq or 0)


def _listing(row: Any) -> dict[str, Any] | None:
    if row.listing_id is None:
        return None
    images = row.listing_images or []
    return {"id": row.listing_id, "title": row.listing_title, "price_cents": row.listing_price_cents,
            "kind": row.listing_kind, "status": row.listing_status, "cover_url": images[0] if images else None}


def _peer(row: Any, online: OnlineCheck) -> dict[str, Any] | None:
    if row.peer_id is None or row.peer_nickname is None:
        return None
    blocked = bool(row.blocked_by_me or row.blocked_me)
    # Presence is not shared across a block, in either direction.
    return {"id": row.peer_id, "nickname": row.peer_nickname, "avatar_url": row.peer_avatar_url,
            "online": (not blocked) and online(row.peer_id), "blocked": bool(row.blocked_by_me)}


def _last_message(row: Any, user_id: int) -> dict[str, Any] | None:
    if row.last_message_id is None or row.last_type is None:
        return None
    return {"id": row.last_message_id, "seq": row.last_seq_of_message, "type": row.last_type,
            "preview": preview(type=row.last_type, body=row.last_body, recalled=row.last_recalled_at is not None,
                               sender_id=row.last_sender_id, viewer_id=user_id, group_kind=row.kind),
            "sender_id": row.last_sender_id, "created_at": row.last_created_at}


def conversation_item(row: Any, *, user_id: int, snapshot_at: datetime, online: OnlineCheck) -> dict[str, Any]:
    """The API's conversation item (plus `read_only`: no message can be sent into it now)."""
    archived = row.kind == "item" and is_archived(listing_final_at=row.listing_final_at,
                                                  listing_status=row.listing_status, now=snapshot_at)
    return {"group_id": row.group_id, "kind": row.kind, "name": row.name, "member_count": row.member_count,
            "listing": _listing(row), "peer": _peer(row, online),
            "role": role_of(row, user_id), "last_message": _last_message(row, user_id),
            "unread_count": unread_count(row), "updated_at": row.activity,
            "read_only": bool(row.read_only) or archived, "muted": bool(row.muted), "pinned": bool(row.pinned),
            "mentioned": mentioned(row),
            # the peer's read marker ("已读" on your messages up to it); not shared across a block
            "peer_read_seq": (row.peer_read_seq or 0) if row.peer_read_seq is not None
            and not (row.blocked_by_me or row.blocked_me) else None}
