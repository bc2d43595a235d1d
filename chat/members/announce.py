"""What members hear of a membership change: the `event` frames, and the `system` texts a group shows.

Events are raised through `announce` only, inside the change's unit of work: published when it
commits, dropped if it rolls back.
"""
from __future__ import annotations

from typing import Any, Iterable

from chat.events import Event, emit

#: every membership event type, as clients see it in `{"op":"event","type":...}`
MEMBER_EVENTS = ("member_joined", "member_left", "member_removed", "role_changed", "member_muted",
                 "group_renamed", "group_dissolved")

ROLE_TEXT = {"owner": "群主", "admin": "管理员", "member": "成员"}


def member_event(type: str, *, group_id: int, group_kind: str, recipients: Iterable[int], by: int | None,
                 **data: Any) -> Event:
    """One membership event for `recipients` (user ids); `data` adds its own fields (user_id, role, ...)."""
    if type not in MEMBER_EVENTS:
        raise ValueError(f"unknown membership event {type!r}")
    return {"type": type, "group_id": group_id, "group_kind": group_kind, "by": by, **data,
            "recipients": sorted(set(recipients))}


def announce(events: Iterable[Event]) -> None:
    """Raise membership events in the current unit of work (their system messages' events are raised by
    the append that stores them); published after it commits."""
    for event in events:
        emit(event)


def names(users: Iterable[Any]) -> str:
    """Nicknames as a group's system message lists them."""
    return "、".join(user.nickname for user in users)


def joined_text(actor: Any | None, users: list[Any]) -> str:
    return f"{actor.nickname} 邀请 {names(users)} 加入了群聊" if actor is not None else f"{names(users)} 加入了群聊"


def created_text(owner: Any, users: list[Any]) -> str:
    invited = f",并邀请 {names(users)} 加入" if users else ""
    return f"{owner.nickname} 创建了群聊{invited}"


def left_text(user: Any) -> str:
    return f"{user.nickname} 退出了群聊"


def removed_text(user: Any) -> str:
    return f"{user.nickname} 被移出了群聊"


def role_text(user: Any, role: str) -> str:
    return f"{user.nickname} 被设为{ROLE_TEXT[role]}" if role != "member" else f"{user.nickname} 不再是管理员"


def transfer_text(old: Any | None, new: Any) -> str:
    return f"{old.nickname} 将群主转让给了 {new.nickname}" if old is not None else f"{new.nickname} 成为了群主"


def renamed_text(name: str) -> str:
    return f"群名已改为「{name}」"


DISSOLVED_TEXT = "该群聊已解散"
