"""How a message looks to clients: one JSON-ready dict, built from Core rows (no ORM objects)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from chat.tables import messages_t, users_t
from core import jsontext
from marketplace.models import User

MESSAGE_COLUMNS = (messages_t.c.id, messages_t.c.group_id, messages_t.c.seq, messages_t.c.sender_id,
                   messages_t.c.type, messages_t.c.body, messages_t.c.ext, messages_t.c.client_id,
                   messages_t.c.created_at, messages_t.c.recalled_at, messages_t.c.reply_to, messages_t.c.mentions,
                   messages_t.c.edited_at, messages_t.c.revision)


def message_query() -> Select:
    """SELECT of every message column plus the sender's nickname and avatar (outer join: system has none)."""
    return (select(*MESSAGE_COLUMNS, users_t.c.nickname.label("sender_nickname"),
                   users_t.c.avatar_url.label("sender_avatar_url"))
            .select_from(messages_t.outerjoin(users_t, users_t.c.id == messages_t.c.sender_id)))


def user_summary(user: User | None) -> dict[str, Any] | None:
    """`{id, nickname, avatar_url}` of a user, None for the system."""
    if user is None:
        return None
    return {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url}


def message_dict(*, id: int, group_id: int, seq: int, sender: dict[str, Any] | None, type: str,
                 body: dict, ext: dict | None, client_id: str | None, created_at: datetime,
                 recalled_at: datetime | None, reply_to: dict | None = None, mentions: list | str | None = None,
                 edited_at: datetime | None = None, revision: int = 0) -> dict[str, Any]:
    """The message as every client sees it (REST, WebSocket frames, events); times are ISO 8601 strings."""
    return {"id": id, "group_id": group_id, "seq": seq, "sender": sender, "type": type,
            "body": body, "ext": ext, "client_id": client_id, "created_at": created_at.isoformat(),
            "recalled": recalled_at is not None, "reply_to": reply_to, "mentions": mentions,
            "edited_at": edited_at.isoformat() if edited_at is not None else None, "revision": revision or 0}


def encode_message(message: dict[str, Any]) -> str:
    """The message dict as compact JSON (UTF-8 text kept as is), encoded once per message for every frame."""
    return jsontext.dumps(message)


def message_from_row(row: Any) -> dict[str, Any]:
    """The message dict of a row from `message_query()`."""
    sender = None
    if row.sender_id is not None:
        sender = {"id": row.sender_id, "nickname": row.sender_nickname, "avatar_url": row.sender_avatar_url}
    return message_dict(id=row.id, group_id=row.group_id, seq=row.seq, sender=sender, type=row.type,
                        body=row.body, ext=row.ext, client_id=row.client_id, created_at=row.created_at,
                        recalled_at=row.recalled_at, reply_to=row.reply_to, mentions=row.mentions,
                        edited_at=row.edited_at, revision=row.revision)
