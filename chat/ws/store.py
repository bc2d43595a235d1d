"""What the sockets read from the database: the inbox after a position, its end, the sessions (in batches)."""
from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Iterable, NamedTuple

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from chat.cursors import encode_cursor
from chat.messages.views import encode_message
from chat.sync import sync_batch, user_cursor, user_cursors
from chat.ws.session import CHECK_CHUNK, SessionEnd, ended_sessions
from core.db import db
from core.jsontext import dumps

log = logging.getLogger(__name__)


class Positioned(NamedTuple):
    """A message at one user's inbox position, its JSON encoded once; or, with `event`, the data JSON of the
    event at that position (`edit`, `reaction`: a change of a message, delivered like one). A tuple: made
    for every recipient of every message, three times cheaper than a frozen dataclass."""

    pos: int
    message_json: str
    sender_id: int | None
    client_id: str | None
    event: str | None = None


def positioned(pos: int, message: dict, encoded: str | None = None) -> Positioned:
    """`message` at inbox position `pos`; `encoded` is its JSON when the caller has it already."""
    sender = message.get("sender")
    return Positioned(pos=pos, message_json=encoded if encoded is not None else encode_message(message),
                      sender_id=sender["id"] if sender else None, client_id=message.get("client_id"))


class Store:
    """Database reads for one socket's writer (each in its own short app context)."""

    encode_cursor = staticmethod(encode_cursor)

    def __init__(self, app: Flask) -> None:
        self.app = app

    def replay(self, user_id: int, after_pos: int, limit: int) -> tuple[list[Positioned], bool]:
        with self.app.app_context():
            try:
                items, more = sync_batch(user=SimpleNamespace(id=user_id), after_pos=after_pos, limit=limit)  # type: ignore[arg-type]
                return [positioned(item.pos, item.message) if item.event is None
                        else Positioned(item.pos, dumps(item.data), None, None, item.event) for item in items], more
            finally:
                db.remove()

    def latest_pos(self, user_id: int) -> int:
        with self.app.app_context():
            try:
                return user_cursor(user_id)
            finally:
                db.remove()

    def ended_sessions(self, token_ids: Iterable[int]) -> dict[int, SessionEnd]:
        """The sessions among `token_ids` that must end now (none when the database is away: a database
        outage is no reason to drop live sockets)."""
        with self.app.app_context():
            try:
                return ended_sessions(token_ids)
            except SQLAlchemyError:
                log.warning("session re-check failed; keeping the sockets", exc_info=True)
                return {}
            finally:
                db.remove()

    def latest_positions(self, user_ids: Iterable[int]) -> dict[int, int]:
        """Each user's inbox end (users without messages left out; none when the database is away)."""
        ids = sorted(set(user_ids))
        with self.app.app_context():
            try:
                latest: dict[int, int] = {}
                for start in range(0, len(ids), CHECK_CHUNK):
                    latest.update(user_cursors(ids[start:start + CHECK_CHUNK]))
                return latest
            except SQLAlchemyError:
                log.warning("inbox end check failed; the sockets catch up at the next one", exc_info=True)
                return {}
            finally:
                db.remove()
