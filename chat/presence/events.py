"""The `presence` event: to the online users who share an item or direct chat with the user, never
across a block in either direction, and never to rooms."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from chat.tables import blocks_t, groups_t, members_t
from chat.ws import frames
from chat.ws.hub import frame_payload, user_channel
from core.db import db

#: where presence is shared: between the two parties of a chat, not across groups and rooms
PEER_KINDS = ("direct", "item")


def shared_peer_ids(s: Session, user_id: int) -> list[int]:
    """Everyone in an item or direct group with the user, except across a block; one statement."""
    mine, theirs = members_t.alias("mine"), members_t.alias("theirs")
    peer = theirs.c.user_id
    blocked = exists().where(or_(and_(blocks_t.c.blocker_id == user_id, blocks_t.c.blocked_id == peer),
                                 and_(blocks_t.c.blocker_id == peer, blocks_t.c.blocked_id == user_id)))
    stmt = (select(peer).distinct()
            .select_from(mine.join(groups_t, groups_t.c.id == mine.c.group_id)
                         .join(theirs, theirs.c.group_id == mine.c.group_id))
            .where(mine.c.user_id == user_id, groups_t.c.kind.in_(PEER_KINDS), peer != user_id, ~blocked)
            .order_by(peer))
    return list(s.scalars(stmt))


def presence_frame(user_id: int, online: bool) -> str:
    return frames.event("presence", {"user_id": user_id, "online": online})


def publish_presence(app: Flask, user_id: int, online: bool) -> int:
    """Send the event to the user's peers that are online now; how many were sent to."""
    with app.app_context():
        try:
            peers = shared_peer_ids(db.session, user_id)
        finally:
            db.remove()
    if not peers:
        return 0
    targets = sorted(app.extensions["presence"].online(peers))
    if targets:
        payload = frame_payload(presence_frame(user_id, online))
        app.extensions["broker"].publish_many((user_channel(uid), payload) for uid in targets)
    return len(targets)
