"""Chat events, raised inside a unit of work and published by it after commit (`core.db.Database.on_commit`).

Every event is a small dict with a `type`:
- `{"type": "message", "group_id", "group_kind", "message": {...}, "cursors": {user_id: pos},
  "recipients": [user_id, ...]}` for each new message (`cursors` is empty for rooms);
- `{"type": "recall", "group_id", "message": {...}, "by": user_id, "recipients": [...]}`;
- `{"type": "edit", "group_id", "message": {...}, "cursors": {user_id: pos}, "recipients": [...]}` when a
  message is edited, and `{"type": "reaction", "group_id", "state": {group_id, message_id, seq},
  "rows": [(user_id, emoji), ...], "change": {user_id, emoji, action}, "cursors", "recipients"}` when its
  reactions change (`cursors`: each member's inbox entry of the change; empty for rooms);
- `{"type": "read", "group_id", "user_id", "seq", "recipients": [...]}` when a read marker moves;
- `{"type": "group", "group_id", "kind", "action": "created", "recipients": [...]}` when an admin
  opens a group for its members;
- `{"type": "member", "group_id", "user_id", "role", "action": "added"|"role_changed"|"removed",
  "recipients": [...]}` when an admin changes a room's members (the removed user hears it too);
- membership events of user groups and rooms (chat.members.announce): `member_joined` (`user_ids`),
  `member_left`, `member_removed`, `role_changed`, `member_muted` (`user_id`), `group_renamed`,
  `group_dissolved`, each with `group_id`, `group_kind`, `by` and `recipients`.

`chat.ws` publishes them (`chat/ws/hub.py`, `publish_events`); nothing else calls the broker for them.
"""
from __future__ import annotations

from core.db import Event, db

__all__ = ["Event", "emit"]


def emit(event: Event) -> None:
    """Raise a chat event in the current unit of work: published after it commits, dropped if it rolls back."""
    db.on_commit(event)
