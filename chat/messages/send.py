"""Every producer of messages, each a batch through `batch.append` (the one way a message is stored).

A client's send (`send_message`, REST) is `send_many([request])[0]`; server-made posts (offers,
listing notices, admin and system messages) append inside the caller's unit of work, whose commit
publishes their events.
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol, Sequence

from sqlalchemy.orm import Session

from chat.messages.batch import (
    Send,
    SendRequest,
    SendResult,
    append,
    check_sender,
    post_off_platform_notice,
    send_many,
)
from chat.messages.bodies import SERVER_TYPES
from core.db import db
from marketplace.models import User
from marketplace.uploads.urls import current_base_url

__all__ = ["SendResult", "send_message", "post_message", "post_server_messages", "post_system_messages",
           "post_off_platform_notice", "lock_for_sender"]


class Sender(Protocol):
    """Who sends: only the id is read (name, avatar and ban come from the database with the group lock)."""

    id: int


def send_message(*, sender: Sender, group_id: int, client_id: str, type: str, body: Any,
                 ext: Any = None, reply_to: Any = None, mentions: Any = None) -> SendResult:
    """Send a client message into a group the sender belongs to; idempotent per (sender, client_id).

    404 for non-members, 403 `read_only`, `blocked` (between the two parties of an item or
    direct group) or `banned`; 400 for a bad type/body/ext (`ext_too_large` beyond 4 KB);
    409 `client_id_reused` when the client_id already named a message in another group;
    403 `content_blocked` on a keyword rule (`mask` rules rewrite the body instead); replies and mentions
    as `chat.messages.extras` checks them.
    """
    outcome = send_many([SendRequest(sender_id=sender.id, group_id=group_id, client_id=client_id, type=type,
                                     body=body, ext=ext, base_url=current_base_url(), reply_to=reply_to,
                                     mentions=mentions)])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def post_message(s: Session, *, group_id: int, sender: User | None, type: str, body: dict,
                 ext: dict | None = None) -> SendResult:
    """Append one message inside the caller's transaction from `sender` (None: the system), who
    need not be a member (an admin's test message); the body must be validated. 404 when the group
    is missing."""
    return _posted(append(s, [Send(0, sender.id if sender else None, group_id, type, body, ext, checked=False)]))[0]


def post_server_messages(s: Session, *, sender: User | None,
                         posts: Sequence[tuple[int, str, dict]]) -> list[SendResult]:
    """Append server-made messages, each `(group_id, type, body)`, from `sender` (None: the system).

    Runs inside the caller's transaction and checks nothing about the sender (call
    `lock_for_sender` first where the sender's right to post matters). 404 when a group is missing.
    """
    if any(type not in SERVER_TYPES for _, type, _ in posts):
        raise ValueError(f"only server-made types ({', '.join(sorted(SERVER_TYPES))}) are posted here")
    sender_id = sender.id if sender else None
    return _posted(append(s, [Send(i, sender_id, group_id, type, body, checked=False)
                              for i, (group_id, type, body) in enumerate(posts)]))


def post_system_messages(*, group_ids: Iterable[int], text: str,
                         read_only: bool | None = None) -> list[SendResult]:
    """Post a server-made `system` message `{text}` into each group, in one transaction; missing groups
    are skipped. `read_only` (when not None) is set on each group with its message."""
    sends = [Send(i, None, group_id, "system", {"text": text}, checked=False, read_only=read_only)
             for i, group_id in enumerate(sorted(set(group_ids)))]
    if not sends:
        return []
    with db.transaction() as s:
        outcomes = append(s, sends)
    return [o for o in (outcomes[i] for i in range(len(sends))) if isinstance(o, SendResult)]


def lock_for_sender(s: Session, *, group_id: int, sender: Sender) -> None:
    """Lock the group row; raises (404/403) unless the sender may post in it."""
    check_sender(s, group_id=group_id, sender_id=sender.id)


def _posted(outcomes: dict) -> list[SendResult]:
    """The results in order; the first refusal (a missing group) is raised."""
    results = [outcomes[i] for i in range(len(outcomes))]
    for outcome in results:
        if isinstance(outcome, Exception):
            raise outcome
    return results
