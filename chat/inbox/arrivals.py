"""What new messages change for each member, inside the send transaction: `plan_arrivals`, `settle_unread`.

Called once per unit of work by the batched append (every path that stores messages), after the
members' inbox counters are locked and before the senders' read markers move; the append writes what
it plans in its last statement (`BatchSql.finish`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from flask import current_app

from chat.inbox import unread
from chat.models import INBOX_KINDS
from chat.notify import queue

if TYPE_CHECKING:
    from chat.messages.batch import SendResult


def plan_arrivals(results: Sequence["SendResult"],
                  member_rows: Sequence[Any]) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """The members' unread deltas (non-zero ones), and the notification queue rows: one for each member
    with no socket in this process who has not muted the chat (or whom the message mentions).
    `member_rows`: the members' rows with their read markers, current (read under their counter locks).

    Whether a member is online anywhere is asked again by the notification worker before it sends
    (so nothing here waits on Redis); members online in this process are known for free.
    """
    inbox = [r for r in results if r.created and r.group_kind in INBOX_KINDS]
    if not inbox:
        return {}, []
    messages = [(r.message["group_id"], r.message["seq"], _sender_id(r)) for r in inbox]
    deltas, members = unread.arrival_deltas(messages, member_rows)
    deltas = {uid: d for uid, d in deltas.items() if d}
    if current_app.config.get("NOTIFIER", "off") == "off":
        return deltas, []
    wanted = [(uid, group_id, r.message["id"]) for r, (group_id, _, sender_id) in zip(inbox, messages)
              if sender_id is not None
              for uid, member in members.get(group_id, {}).items()
              if uid != sender_id and (not member.muted or _mentions(r.message.get("mentions"), uid))]
    presence = current_app.extensions.get("presence")
    here = presence.here({uid for uid, _, _ in wanted}) if presence is not None and wanted else set()
    return deltas, queue.rows(arrival for arrival in wanted if arrival[0] not in here)


def settle_unread(results: Sequence["SendResult"], badges: Mapping[int, unread.Badge]) -> None:
    """Hand the new badges to the last message's event (the `unread` events go out with it)."""
    inbox = [r for r in results if r.created and r.group_kind in INBOX_KINDS]
    if inbox and badges:
        inbox[-1].unread = unread.clamped(badges)


def _mentions(mentions: list[int] | str | None, user_id: int) -> bool:
    return mentions == "all" or (isinstance(mentions, list) and user_id in mentions)


def _sender_id(result: "SendResult") -> int | None:
    sender = result.message.get("sender")
    return sender["id"] if sender else None
