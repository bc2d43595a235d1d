"""What each client op does: validate the frame, call one service, queue the answer."""
from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from chat.cursors import decode_cursor
from chat.messages.batch import Outcome, SendRequest
from chat.messages.edits import edit_message
from chat.messages.reactions import set_reaction
from chat.messages.services import mark_read
from chat.sync import user_cursor
from chat.ws import frames
from chat.ws.chatter import check_read, typing_recipients
from chat.ws.connection import Connection
from chat.ws.hub import frame_payload, user_channel
from chat.ws.protocol import INTERNAL_ERROR, error_frame, parse_frame
from chat.ws.send_queue import SendQueue
from chat.ws.store import positioned
from core.db import db
from core.errors import ApiError, NotFound, ServiceUnavailable, ValidationError
from core.ratelimit import enforce
from marketplace.models import User

log = logging.getLogger(__name__)


class Unavailable(ServiceUnavailable):
    message = "The message could not be stored; send it again."


#: ops that never open this thread's database session: a send is stored by the send queue's own unit of work
SESSIONLESS = frozenset({"send", "ping"})


def handle(conn: Connection, raw: str | bytes, broker, sends: SendQueue) -> str:
    """Run one client frame and return its op; ApiError propagates to the caller, which answers with an error
    frame."""
    frame = parse_frame(raw)
    op = frame["op"]
    conn.frame_read(op)
    if op != "send":
        conn.queued_sends.wait(conn.settings.send_wait_s)
    if op == "ping":
        conn.push_frame(frames.PONG)
    elif op == "sync":
        conn.request_sync(_sync_start(conn, frame["cursor"]))
    elif op == "send":
        _send(conn, frame, sends)
    elif op == "read":
        _read(conn, frame["group_id"], frame["seq"])
    elif op == "typing":
        _typing(conn, frame["group_id"], broker)
    elif op == "edit":  # answered by the `edit` event, on every device of every member
        edit_message(actor_id=conn.user_id, group_id=frame["group_id"], message_id=frame["message_id"],
                     body=frame["body"])
    elif op in ("react", "unreact"):  # answered by the `reaction` event (when something changed)
        set_reaction(actor_id=conn.user_id, group_id=frame["group_id"], message_id=frame["message_id"],
                     emoji=frame["emoji"], add=op == "react")
    return op


def _sync_start(conn: Connection, cursor: str | None) -> int:
    """The inbox position a sync starts after; a cursor ahead of the user's inbox is no cursor of theirs."""
    pos = decode_cursor(cursor)
    if pos > user_cursor(conn.user_id):
        raise ValidationError("The cursor is not valid.", code="invalid_cursor",
                              details={"fields": {"cursor": ["Ahead of this user's messages."]}})
    return pos


def _user(conn: Connection) -> User:
    user = db.session.get(User, conn.user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _send(conn: Connection, frame: dict, sends: SendQueue) -> None:
    client_id = frame["client_id"]
    enforce("send", "send_sustained", subject=conn.user_id)  # an error frame; the socket stays
    conn.start_send(client_id)
    conn.queued_sends.add()

    def done(outcome: Outcome) -> None:
        try:
            answer_send(conn, client_id, outcome)
        finally:
            conn.queued_sends.done()

    sends.submit(SendRequest(sender_id=conn.user_id, group_id=frame["group_id"], client_id=client_id,
                             type=frame["type"], body=frame["body"], ext=frame.get("ext"),
                             base_url=conn.base_url, reply_to=frame.get("reply_to"),
                             mentions=frame.get("mentions"), origin=conn), done)


def answer_send(conn: Connection, client_id: str, outcome: Outcome) -> None:
    """Queue the answer to one committed (or refused) send: its ack, or an error frame."""
    if isinstance(outcome, Exception):
        conn.abandon_send(client_id)
        if isinstance(outcome, SQLAlchemyError):
            log.warning("send of user %s failed in the database: %s", conn.user_id, outcome)
            outcome = Unavailable()
        elif not isinstance(outcome, ApiError):
            outcome = INTERNAL_ERROR
        conn.push_frame(error_frame(outcome, client_id))
        return
    pos = outcome.cursors.get(conn.user_id)
    if pos is None:
        # Room messages are live-only: no inbox position, the ack carries no cursor.
        conn.abandon_send(client_id)
        conn.push_frame(frames.ack(client_id, outcome.message_json))
    else:
        conn.push_ack(client_id, positioned(pos, outcome.message, outcome.message_json))


def _read(conn: Connection, group_id: int, seq: int) -> None:
    if seq <= conn.read_marks.get(group_id, 0):
        return  # this socket already read that far: nothing would move
    check_read(conn.user_id, group_id)
    mark_read(user=_user(conn), group_id=group_id, seq=seq)
    conn.read_marks[group_id] = seq


def _typing(conn: Connection, group_id: int, broker) -> None:
    # Rooms are not relayed (one publish per member per keystroke); see chat/ws/chatter.py.
    recipients = typing_recipients(conn.user_id, group_id)
    if recipients:
        frame = frames.event("typing", {"group_id": group_id, "user_id": conn.user_id})
        broker.publish_many((user_channel(uid), frame_payload(frame)) for uid in recipients)

