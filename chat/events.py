"""After-commit events of chat: the WebSocket/broker layer registers hooks here to publish them.

Every event is a small dict with a `type`:
- `{"type": "message", "group_id", "group_kind", "message": {...}, "cursors": {user_id: pos},
  "recipients": [user_id, ...]}` for each new message (`cursors` is empty for rooms);
- `{"type": "recall", "group_id", "message": {...}, "by": user_id, "recipients": [...]}`;
- `{"type": "read", "group_id", "user_id", "seq", "recipients": [...]}` when a read marker moves;
- `{"type": "group", "group_id", "kind", "action": "created", "recipients": [...]}` when an admin
  opens a group for its members;
- `{"type": "member", "group_id", "user_id", "role", "action": "added"|"role_changed"|"removed",
  "recipients": [...]}` when an admin changes a room's members (the removed user hears it too);
- membership events of user groups and rooms (chat.members.announce): `member_joined` (`user_ids`),
  `member_left`, `member_removed`, `role_changed`, `member_muted` (`user_id`), `group_renamed`,
  `group_dissolved`, each with `group_id`, `group_kind`, `by` and `recipients`.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

Event = dict[str, Any]

#: callables taking one event dict, run after the transaction that made the event commits
after_commit_hooks: list[Callable[[Event], None]] = []

#: callables taking every event of one commit at once (the broker publishes them in one round trip)
after_commit_batch_hooks: list[Callable[[list[Event]], None]] = []


def dispatch(events: Iterable[Event]) -> None:
    """Hand committed events to every hook; a failing hook is logged, never raised to the caller."""
    events = list(events)
    for event in events:
        for hook in list(after_commit_hooks):
            try:
                hook(event)
            except Exception:
                log.exception("chat after-commit hook %r failed on a %s event", hook, event.get("type"))
    if events:
        for batch_hook in list(after_commit_batch_hooks):
            try:
                batch_hook(events)
            except Exception:
                log.exception("chat after-commit hook %r failed on %d event(s)", batch_hook, len(events))
