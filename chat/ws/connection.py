"""One WebSocket connection: its outbound queue, its single writer, and exactly-once ordered delivery.

Every frame leaves through the writer, one at a time (simple-websocket's `send` is not
safe from several threads), started while there is something to send. Messages of item and direct groups carry the
recipient's inbox position; the writer keeps a watermark `wm` (the last
position delivered on this socket, contiguously) and so delivers each position
once and in order, whether it comes live from the broker, from an `ack`, or
from the database (sync replay, or a gap the broker skipped).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError

from chat.ws import frames
from chat.ws.frames import CLOSE_GOING_AWAY, CLOSE_NORMAL, REASON_HEARTBEAT
from chat.ws.outbox import Item, Outbox, SendsInFlight
from chat.ws.send_queue import QueuedSends
from chat.ws.socket import Socket
from chat.ws.store import Positioned, Store

#: the longest a failed gap read waits before it is tried again (doubling from the gap wait): the frames
#: behind the gap wait for it, so a database blip must not hold them for a heartbeat
GAP_RETRY_MAX_S = 2.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """One process's socket settings, from the app's WS_* configuration (config/settings.py holds each
    default and the README's table says what each does)."""

    heartbeat_s: float
    # A socket opened without a cursor holds positions after hello until the client's first frame, at most
    # this long: a first `sync` is then replayed before anything live, any other first frame (a send, a
    # ping) makes the socket live at once, and a client that only listens is live after this grace.
    hello_grace_s: float
    # after a partial replay (`more: true`) positions are held until the client asks for the next batch, at
    # most this long. Generous on purpose: a sync that arrives after the grace (a starved client or server)
    # would replay what already went out live.
    sync_grace_s: float
    batch_size: int
    queue_max: int
    catch_up_s: float
    max_frame_bytes: int
    send_buffer_bytes: int | None  # None: the OS autotunes it
    gap_wait_s: float
    coalesce: int
    send_wait_s: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(heartbeat_s=config["WS_HEARTBEAT_S"], hello_grace_s=config["WS_HELLO_GRACE_S"],
                   sync_grace_s=config["WS_SYNC_GRACE_S"], batch_size=config["WS_SYNC_BATCH"],
                   queue_max=config["WS_QUEUE_MAX"], catch_up_s=config["WS_CATCH_UP_S"],
                   max_frame_bytes=config["WS_MAX_FRAME_BYTES"],
                   send_buffer_bytes=config["WS_SEND_BUFFER_BYTES"] or None, gap_wait_s=config["WS_GAP_WAIT_S"],
                   coalesce=config["WS_COALESCE"], send_wait_s=config["WS_SEND_WAIT_S"])


class Connection:
    """Delivery state of one socket: the handler's thread reads frames, a writer sends them.

    A client that resumes names its cursor when it connects (`/ws?cursor=`): the replay
    is the first thing the writer does, before anything live. Without a cursor,
    positions after `hello` are held until the client's first frame: a first `sync`
    is replayed before anything live, any other frame (a send, a ping) makes the
    socket live at once, and a client that only listens is live after `hello_grace_s`.
    After a partial replay (`more: true`) positions are held again until the client
    asks for the next batch. Acks are positions too: one goes out only in
    order (never ahead of a position not yet delivered), so the cursor of every frame
    is safe to resume from.

    The writer runs only while there is something to send, or a hold or a gap to wait out: an idle
    socket has no thread of its own (the process's watch queues its heartbeat ping).
    """

    def __init__(self, ws: "Socket", *, user_id: int, token_id: int, store: Store,
                 settings: Settings, on_close: Callable[["Connection"], None] | None = None,
                 base_url: str | None = None) -> None:
        """`base_url`: the socket's request's, media URLs in its sends are checked against it."""
        self.ws = ws
        self.user_id = user_id
        self.token_id = token_id
        self.store = store
        self.settings = settings
        self.on_close = on_close
        self.closed = threading.Event()  # set once the writer has sent its close frame
        self._closing = False
        self._outbox = Outbox(settings.queue_max, owner=f"user {user_id} socket", writer=self._write,
                              on_overflow=self._cut_off_if_writer_stuck)
        self._sends = SendsInFlight()
        self.queued_sends = QueuedSends()  # the reader's: sends not yet committed
        self.read_marks: dict[int, int] = {}  # the reader's: group id -> the seq this socket marked read
        self.base_url = base_url
        # Writer-thread state: positions (base, wm] went out on this socket, in order.
        self.wm = 0
        self._base = 0
        self.live = False
        self._hold_until = 0.0
        self._first_frame_pending = True  # no cursor given on connect and no frame read yet
        self._held: list[tuple[Positioned, str | None]] = []  # (item, client_id when it is an ack)
        self._early: dict[int, Positioned] = {}  # live positions beyond a gap, waiting for it to fill
        self._gap_deadline = 0.0
        self._gap_retry_s = 0.0  # the wait before a failed gap read is tried again (0: none failed)
        self._out: list[str] = []  # frames to write with the next flush

    # ----- called from any thread -------------------------------------------------
    def push_frame(self, frame: str) -> None:
        """Queue a frame that carries no position (events, pong, errors, room messages)."""
        self._put(Item("frame", frame))

    def push_positioned(self, item: Positioned) -> None:
        """Queue a message of an item/direct group, tagged with this user's inbox position."""
        self._put(Item("pos", item))

    def push_ack(self, client_id: str, item: Positioned) -> None:
        """Queue the answer to this socket's `send` (sent in position order, once the client synced)."""
        self._put(Item("ack", (client_id, item)))

    def request_sync(self, after_pos: int) -> None:
        self._put(Item("sync", after_pos))

    def frame_read(self, op: str) -> None:
        """The reader got a client frame: a first frame other than `sync` makes the socket live at once."""
        if self._first_frame_pending:
            self._first_frame_pending = False
            if op != "sync":
                self._put(Item("live"))

    def beat(self) -> None:
        """Heartbeat (the watch's, every `heartbeat_s`): ping, or close a socket whose last ping got no answer."""
        self._put(Item("beat"))

    def request_catch_up(self) -> None:
        """The broker may have lost frames (it reconnected): re-read the database from wm."""
        self._put(Item("catch_up"))

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        self._put(Item("close", (code, reason)), force=True)

    def start_send(self, client_id: str) -> None:
        """Mark a send in flight, so the writer answers it with an ack rather than a message."""
        self._sends.add(client_id)

    def abandon_send(self, client_id: str) -> None:
        self._sends.take(client_id)

    def _put(self, item: Item, force: bool = False) -> None:
        if not self._closing:
            self._outbox.put(item, force=force)

    def _cut_off_if_writer_stuck(self) -> None:
        if self.ws.stalled_for() > 0:  # blocked in a send, the writer would never reach the close
            self.ws.abort()

    def cut_off_if_stalled(self) -> bool:
        """Abort the connection when one send has been blocked a whole heartbeat (the client reads nothing)."""
        if self.ws.stalled_for() <= self.settings.heartbeat_s:
            return False
        log.warning("user %s socket accepts nothing; cutting it off", self.user_id)
        self.ws.abort()
        return True

    # ----- the writer --------------------------------------------------------------
    def start(self, hello: str, hello_pos: int, resume_after: int | None = None) -> None:
        """Send `hello`; replay after `resume_after` first when the client resumes, else hold until it
        speaks. Then the writer starts."""
        self.wm = self._base = hello_pos
        if resume_after is None:
            self._hold_until = time.monotonic() + self.settings.hello_grace_s
        else:
            self._first_frame_pending = False
            self._hold_until = time.monotonic() + self.settings.sync_grace_s
            self.request_sync(resume_after)  # positions queued before it are held, then merged in order
        self._send(hello)
        self._flush()
        self._outbox.start_writer()

    def _write(self) -> None:
        """The writer: send everything queued, in as few socket writes as possible; wait only while a
        hold or a gap has a deadline; retire once nothing is left (the next item starts a writer).

        The periodic database reads (session re-check, catch-up) are the process's, batched for all
        its sockets (`watch.py`): a writer reads only when told to catch up or when it sees a gap."""
        try:
            while True:
                item = self._outbox.get_nowait()
                while item is not None:
                    if not self._handle(item):
                        return
                    if len(self._out) >= self.settings.coalesce:
                        self._flush()
                    item = self._outbox.get_nowait()
                now = time.monotonic()
                if self.live and self._early and now >= self._gap_deadline:
                    self._fill_gap()
                if not self.live and now >= self._hold_until:
                    self._go_live()
                self._flush()
                deadline = self._deadline()
                if deadline is None:
                    if self._outbox.retire():
                        return
                else:
                    self._outbox.wait(deadline - time.monotonic())
        except Exception:
            log.info("socket of user %s stopped writing", self.user_id, exc_info=True)
            self._shutdown(CLOSE_GOING_AWAY, "")

    def _deadline(self) -> float | None:
        """When the writer must act without a new item: the end of a hold, or of a gap's wait."""
        if not self.live:
            return self._hold_until
        return self._gap_deadline if self._early else None

    def _handle(self, item: Item) -> bool:
        if item.kind == "frame":
            self._send(item.data)
        elif item.kind == "pos":
            self._positioned(item.data)
        elif item.kind == "ack":
            self._ack(*item.data)
        elif item.kind == "sync":
            self._sync(item.data)
        elif item.kind == "live":
            if not self.live:  # queued only for a first frame that is not `sync`: nothing to replay first
                self._go_live()
        elif item.kind == "catch_up":
            if self.live:
                self._catch_up()
        elif item.kind == "beat":
            if not self.ws.heartbeat():
                self._shutdown(CLOSE_GOING_AWAY, REASON_HEARTBEAT)
                return False
        elif item.kind == "close":
            self._shutdown(*item.data)
            return False
        return True

    def _positioned(self, item: Positioned) -> None:
        if not self.live:
            self._held.append((item, None))
            return
        if item.pos <= self.wm:
            return
        if item.pos > self.wm + 1:
            # Ahead of a gap: most likely another process's publish still on its way; wait a little.
            if not self._early:
                self._gap_deadline = time.monotonic() + self.settings.gap_wait_s
            self._early[item.pos] = item
            return
        self._deliver(item)
        self._deliver_early()

    def _deliver_early(self) -> None:
        """Deliver the waiting positions that follow on from wm; drop those delivered meanwhile."""
        early = self._early
        while early:
            item = early.pop(self.wm + 1, None)
            if item is None:
                for pos in [p for p in early if p <= self.wm]:
                    del early[pos]
                if early:
                    self._gap_deadline = time.monotonic() + self.settings.gap_wait_s
                return
            self._deliver(item)

    def _ack(self, client_id: str, item: Positioned) -> None:
        # An ack ahead of undelivered positions would hand the client a cursor that skips them.
        if not self.live:
            self._held.append((item, client_id))
        elif item.pos > self.wm:
            self._positioned(item)  # fills the gap below it; in flight, it goes out as the ack
        elif self._sends.take(client_id):
            # Delivered already (a retried client_id): answer again at the socket's cursor, not
            # the message's own older position, which would replay what came after it.
            self._send(self._frame("ack", item, client_id, cursor_pos=self.wm))

    def _deliver(self, item: Positioned) -> None:
        """Send position wm+1 (as the ack when it answers this socket's send) and advance."""
        if item.sender_id == self.user_id and self._sends.take(item.client_id):
            self._send(self._frame("ack", item, item.client_id))
        else:
            self._send(self._frame("message", item))
        self._advance(item.pos)

    def _frame(self, op: str, item: Positioned, client_id: str | None = None,
               cursor_pos: int | None = None) -> str:
        cursor = self.store.encode_cursor(item.pos if cursor_pos is None else cursor_pos)
        if item.event is not None:
            return frames.positioned_event(item.event, item.message_json, cursor)
        if op == "ack":
            return frames.ack(client_id, item.message_json, cursor)
        return frames.message(item.message_json, cursor)

    def _advance(self, pos: int) -> None:
        self.wm = pos

    def _fill_to(self, last: int) -> None:
        """Deliver positions (wm, last] from the database: frames the broker lost or reordered."""
        while self.wm < last:
            items, _more = self.store.replay(self.user_id, self.wm, min(self.settings.batch_size, last - self.wm))
            if not items:
                return
            for item in items:
                self._deliver(item)

    def _fill_gap(self) -> None:
        """The broker lost the positions below the waiting ones: read them (retried later on failure)."""
        try:
            self._fill_to(max(self._early) - 1)
        except SQLAlchemyError:
            self._gap_retry_s = min(GAP_RETRY_MAX_S, max(self.settings.gap_wait_s, 2 * self._gap_retry_s))
            log.warning("user %s socket: gap read failed; retrying in %.1f s", self.user_id, self._gap_retry_s,
                        exc_info=True)
            self._gap_deadline = time.monotonic() + self._gap_retry_s
            return
        self._gap_retry_s = 0.0
        self._deliver_early()

    def _catch_up(self) -> None:
        """Read what the broker may have lost, up to the inbox end; a failed read keeps the socket (the
        process's next check, or the next gap, asks again)."""
        try:
            latest = self.store.latest_pos(self.user_id)
            if latest > self.wm:
                self._fill_to(latest)
        except SQLAlchemyError:
            log.warning("user %s socket: catch-up read failed", self.user_id, exc_info=True)
            return
        self._deliver_early()

    def _sync(self, after_pos: int) -> None:
        if after_pos < self._base < self.wm:
            self._sync_below(after_pos)
            return
        # Positions (base, wm] already went out on this socket in order: a cursor among
        # them means the client has those too (it asked before they arrived).
        start = self.wm if self._base <= after_pos <= self.wm else after_pos
        self._base = self.wm = start
        items, more = self.store.replay(self.user_id, start, self.settings.batch_size)
        for item in items:
            self._deliver(item)
        self._deliver_early()
        self._send(frames.synced(self.store.encode_cursor(self.wm), more))
        if more:
            self.live = False
            self._hold_until = time.monotonic() + self.settings.sync_grace_s
        else:
            self._go_live()

    def _sync_below(self, after_pos: int) -> None:
        """A sync from before what this live socket already sent (base, wm]: the older positions, each once.

        They arrive after the newer ones that went out live, so a client that wants them first resumes on
        connect (`/ws?cursor=`) or makes `sync` its first frame. Each carries its own cursor (resuming
        from it repeats, never skips); the last `synced` carries wm.
        """
        items, _more = self.store.replay(self.user_id, after_pos, min(self.settings.batch_size,
                                                                      self._base - after_pos))
        for item in items:
            self._send(self._frame("message", item))
        last = items[-1].pos if items else self._base
        more = last < self._base
        if not more:
            self._base = after_pos
        self._send(frames.synced(self.store.encode_cursor(last if more else self.wm), more))

    def _go_live(self) -> None:
        self.live = True
        held, self._held = self._held, []
        for item, client_id in sorted(held, key=lambda h: h[0].pos):
            if client_id is None:
                self._positioned(item)
            else:
                self._ack(client_id, item)

    def _send(self, frame: str) -> None:
        self._out.append(frame)

    def _flush(self) -> None:
        if self._out:
            frames, self._out = self._out, []
            self.ws.send_many(frames)

    def _shutdown(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        try:
            try:
                self._flush()  # what was answered goes out before the close frame
            except Exception:
                log.info("socket of user %s: frames before the close could not be sent", self.user_id,
                         exc_info=True)
            self.ws.close(code, reason)
            if self.on_close is not None:
                self.on_close(self)
        finally:
            self.closed.set()
