"""Replies and mentions of a send: their shape, their checks against the group, the reply's snapshot, and the
members' mention markers. A plain send has neither and costs nothing here."""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

from chat.conversations.previews import preview
from chat.groups.access import MODERATOR_ROLES
from chat.messages.views import message_query
from chat.tables import members_t, messages_t
from core.errors import ApiError, Forbidden, ValidationError

MENTIONS_MAX = 50
MENTION_ALL = "all"
#: kinds whose messages may mention members
MENTION_KINDS = ("group", "room")


def validate_reply_to(value: Any) -> int | None:
    """The id of `reply_to: {id}` (None without one); 400 for any other shape."""
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"id"} or type(value["id"]) is not int
            or value["id"] < 1):
        raise ValidationError("reply_to is {\"id\": <message id>}.",
                              details={"fields": {"reply_to": ["Must be an object with an integer id."]}})
    return value["id"]


def validate_mentions(value: Any) -> list[int] | str | None:
    """`mentions`: up to MENTIONS_MAX user ids (sorted, without repeats) or "all"; None (or []) for none."""
    if value is None or value == MENTION_ALL:
        return value
    if (not isinstance(value, list) or len(value) > MENTIONS_MAX
            or any(type(uid) is not int or uid < 1 for uid in value)):
        raise ValidationError(f"mentions is \"all\" or a list of at most {MENTIONS_MAX} user ids.",
                              details={"fields": {"mentions": [f"At most {MENTIONS_MAX} user ids, or \"all\"."]}})
    return sorted(set(value)) or None


def snapshot(row: Any, group_kind: str) -> dict[str, Any]:
    """The quote a reply carries of the message it answers (a row of `message_query()`); a recalled one has
    no preview."""
    recalled = row.recalled_at is not None
    sender = None if row.sender_id is None else {"id": row.sender_id, "nickname": row.sender_nickname}
    text = "" if recalled else preview(type=row.type, body=row.body, recalled=False, sender_id=row.sender_id,
                                       viewer_id=0, group_kind=group_kind)
    return {"id": row.id, "seq": row.seq, "sender": sender, "type": row.type, "preview": text,
            "recalled": recalled}


def check(conn: Connection, sends: Sequence[Any], groups: dict[int, Any],
          members: dict[int, dict[int, str]]) -> tuple[dict[int, dict], dict[int, ApiError]]:
    """The reply snapshots of the sends that reply (by send index) and the refusals of replies to no message
    of the send's group and of mentions this sender may not make there (one read, only for replies)."""
    snapshots: dict[int, dict] = {}
    refusals: dict[int, ApiError] = {}
    replying = [s for s in sends if s.reply_to_id is not None]
    targets = {}
    if replying:
        ids = sorted({s.reply_to_id for s in replying})
        targets = {row.id: row for row in conn.execute(message_query().where(messages_t.c.id.in_(ids)))}
    for s in sends:
        target = targets.get(s.reply_to_id) if s.reply_to_id is not None else None
        if s.reply_to_id is not None and (target is None or target.group_id != s.group_id):
            refusals[s.index] = ValidationError("reply_to names no message of this group.", code="reply_not_found",
                                                details={"fields": {"reply_to": ["No such message here."]}})
        elif s.mentions is not None:
            refusal = _mention_refusal(s, groups[s.group_id].kind, members[s.group_id])
            if refusal is not None:
                refusals[s.index] = refusal
        if target is not None and s.index not in refusals:
            snapshots[s.index] = snapshot(target, groups[s.group_id].kind)
    return snapshots, refusals


def _mention_refusal(s: Any, kind: str, roles: dict[int, str]) -> ApiError | None:
    if kind not in MENTION_KINDS:
        return ValidationError("Mentions are made in user groups and rooms only.", code="mentions_not_allowed",
                               details={"fields": {"mentions": ["Not in this kind of chat."]}})
    if s.mentions == MENTION_ALL:
        if roles.get(s.sender_id) not in MODERATOR_ROLES:
            return Forbidden("Only the owner and admins may mention everyone.", code="mention_all_forbidden")
        return None
    strangers = [uid for uid in s.mentions if uid not in roles]
    if strangers:
        return ValidationError("Only members are mentioned.", code="mention_not_member",
                               details={"fields": {"mentions": ["Not members: " + ", ".join(map(str, strangers))]}})
    return None


_MENTION_ONE = update(members_t).where(members_t.c.group_id == bindparam("gid"),
                                       members_t.c.user_id == bindparam("uid")).values(mention_seq=bindparam("seq"))
_MENTION_ALL = update(members_t).where(members_t.c.group_id == bindparam("gid"),
                                       members_t.c.user_id != bindparam("sid")).values(mention_seq=bindparam("seq"))


def record_mentions(conn: Connection, mentioned: Sequence[tuple[int, int, int | None, list[int] | str]]) -> None:
    """Move the mentioned members' markers to their message: (group_id, seq, sender_id, mentions), in seq order."""
    everyone = [{"gid": gid, "seq": seq, "sid": sid} for gid, seq, sid, who in mentioned if who == MENTION_ALL]
    named = [{"gid": gid, "seq": seq, "uid": uid} for gid, seq, sid, who in mentioned if who != MENTION_ALL
             for uid in who if uid != sid]
    if everyone:
        conn.execute(_MENTION_ALL, everyone)
    if named:
        conn.execute(_MENTION_ONE, named)
