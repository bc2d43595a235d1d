"""The notification worker: claims due rows, decides, sends through the channel, records the outcome.

`drain(app)` handles everything due now (tests pass `now` to stand in for time passing);
`start(app)` runs it every NOTIFY_POLL_S in a background thread (a greenlet under gevent);
`flask --app app notify-worker` runs it in the foreground. Any number of processes may run it:
rows are leased (chat/notify/queue.py), and a process killed mid-send leaves its rows to be claimed
again when their lease ends (a webhook may then see the same `X-PaiPai-Delivery` twice).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, exists, or_, select

from chat.conversations.previews import preview
from chat.notify import queue
from chat.notify.channels import Note, RetryLater, Skip, Undeliverable, channel
from chat.tables import blocks_t, groups_t, listings_t, members_t, messages_t, users_t
from core.current import this_app
from core.db import db, utcnow

log = logging.getLogger(__name__)
BATCH = 50


def _context(item: queue.Claimed) -> Any:
    """The message, its sender and listing, and the member's state now (None when gone)."""
    m, msg, g = members_t.c, messages_t.c, groups_t.c
    blocked = exists().where(or_(
        and_(blocks_t.c.blocker_id == item.user_id, blocks_t.c.blocked_id == msg.sender_id),
        and_(blocks_t.c.blocker_id == msg.sender_id, blocks_t.c.blocked_id == item.user_id)))
    stmt = (select(msg.seq, msg.type, msg.body, msg.sender_id, msg.created_at, msg.recalled_at, g.kind, g.listing_id,
                   listings_t.c.title.label("listing_title"), users_t.c.nickname, m.muted, m.mention_seq,
                   m.last_read_seq, m.hidden_until_seq, blocked.label("blocked"))
            .select_from(messages_t.join(groups_t, g.id == msg.group_id)
                         .join(members_t, and_(m.group_id == g.id, m.user_id == item.user_id))
                         .join(users_t, users_t.c.id == msg.sender_id)
                         .outerjoin(listings_t, listings_t.c.id == g.listing_id))
            .where(msg.id == item.message_id))
    return db.session.execute(stmt).one_or_none()


def _decide(item: queue.Claimed, row: Any, online: set[int]) -> Note | str:
    """The note to send, or the outcome that means none is sent."""
    if row is None:
        return "gone"
    seen = max(row.last_read_seq, row.hidden_until_seq or 0)
    if row.muted and (row.mention_seq or 0) <= seen:  # a mention not read yet notifies a muted chat
        return "muted"
    if row.blocked:
        return "blocked"
    if seen >= row.seq:
        return "read"
    if item.user_id in online:
        return "online"
    text = preview(type=row.type, body=row.body, recalled=row.recalled_at is not None, sender_id=row.sender_id,
                   viewer_id=item.user_id, group_kind=row.kind)
    return Note(user_id=item.user_id, group_id=item.group_id, message_id=item.message_id, seq=row.seq,
                count=item.pending_count, sender_id=row.sender_id, sender_nickname=row.nickname,
                listing_id=row.listing_id, listing_title=row.listing_title, preview=text, sent_at=row.created_at)


def _handle(item: queue.Claimed, decision: Note | str, now: datetime) -> str:
    cfg = current_app.config
    if isinstance(decision, str):
        outcome, window = decision, None
    else:
        try:
            channel(cfg["NOTIFIER"])(decision)
            outcome, window = "sent", cfg["NOTIFY_WINDOW_S"]
        except Skip as skip:
            outcome, window = skip.outcome, None
        except Undeliverable as exc:
            log.warning("notify: user %s group %s undeliverable: %s", item.user_id, item.group_id, exc)
            outcome, window = "failed", None
        except RetryLater as exc:
            if item.attempts < cfg["NOTIFY_MAX_ATTEMPTS"]:
                delay = cfg["NOTIFY_BACKOFF_S"] * 2 ** (item.attempts - 1)
                log.info("notify: user %s group %s retried in %ss: %s", item.user_id, item.group_id, delay, exc)
                with db.core_transaction() as conn:
                    queue.retry_later(conn, item, now=now, delay_s=delay)
                return "retrying"
            log.warning("notify: user %s group %s failed after %d attempts: %s", item.user_id, item.group_id,
                        item.attempts, exc)
            outcome, window = "failed", None
    with db.core_transaction() as conn:
        queue.finish(conn, item, outcome=outcome, now=now, window_s=window)
    return outcome


def run_once(app: Flask, *, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Claim one batch of due rows and handle it: how many ended with each outcome."""
    now = now or utcnow()
    with app.app_context():
        try:
            with db.core_transaction() as conn:
                claimed = queue.claim(conn, now=now, limit=limit, lease_s=app.config["NOTIFY_LEASE_S"])
            if not claimed:
                return {}
            rows = {(item.user_id, item.group_id): _context(item) for item in claimed}
            db.session.rollback()
            presence = app.extensions.get("presence")
            online = presence.online({item.user_id for item in claimed}) if presence is not None else set()
            outcomes: dict[str, int] = {}
            for item in claimed:
                outcome = _handle(item, _decide(item, rows[(item.user_id, item.group_id)], online), now)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            return outcomes
        finally:
            db.remove()


def drain(app: Flask, *, now: datetime | None = None) -> dict[str, int]:
    """Handle every row due at `now` (default: this moment), batch after batch; the outcomes' counts."""
    total: dict[str, int] = {}
    while True:
        outcomes = run_once(app, now=now)
        if not outcomes:
            return total
        for outcome, count in outcomes.items():
            total[outcome] = total.get(outcome, 0) + count
        if set(outcomes) == {"retrying"}:  # everything left is waiting for its backoff
            return total


def _loop(app: Flask, stop: threading.Event) -> None:
    while not stop.wait(app.config["NOTIFY_POLL_S"]):
        try:
            drain(app)
        except Exception:  # the database or a channel failed in an unexpected way: try again next poll
            log.exception("notify: a pass of the worker failed")


def start(app: Flask) -> threading.Event:
    """Run the worker in a daemon thread of this process (once per app); set the returned event to stop it."""
    running = app.extensions.get("notify_worker")
    if running is not None:
        return running
    stop = threading.Event()
    threading.Thread(target=_loop, args=(app, stop), name="notify-worker", daemon=True).start()
    app.extensions["notify_worker"] = stop
    return stop


@click.command("notify-worker")
@click.option("--once", is_flag=True, help="Handle what is due now, then exit.")
@with_appcontext
def notify_worker_command(once: bool) -> None:
    """Send the notifications of offline recipients (NOTIFIER); safe to run in several processes.

    Presence comes from REDIS_URL: without it this process sees nobody online.
    """
    app = this_app()
    if app.config["NOTIFIER"] == "off":
        raise click.ClickException("NOTIFIER is off.")
    if once:
        click.echo(f"notify: {drain(app)}")
        return
    stop = threading.Event()
    try:
        _loop(app, stop)
    except KeyboardInterrupt:
        stop.set()
