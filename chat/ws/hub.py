"""A user's channel, both ends: committed events published as payloads on it, and the process's sockets by
user, fed by one broker subscription per connected user.

Payloads on a user's channel (`user:<id>`) are one of:
- `p<json header>\\n<message json>`: a message at that user's inbox position,
  header `[pos, sender_id, client_id]`; or header `[pos, null, null, type]` and the event's data JSON:
  an `edit` or `reaction` event at that position;
- `f<frame json>`: a ready frame (events, room messages), sent as is;
- `m<json array>`: several of the payloads above, in order: everything one commit publishes to one user
  travels as one broker message (one Redis message to parse per user per batch, not one per frame);
- `c<json>`: control, e.g. `{"close": 4401, "token_id": 7}`, `{"close": 4403}`, or `{"close": 4429, "socket":
  "<id>"}` (one socket, past the user's cap: see `socket_cap.py`).

That is their text, what Redis carries. A commit's events are published as `Parts`, a list per user whose
`str()` is that text; a broker hands the list itself to this process's hub (the in-process broker always, the
Redis one for a user with a socket here), whose positioned parts are `Positioned` items, never encoded.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any, Callable, Iterable

from flask import current_app

from chat.broker.base import Subscription
from chat.inbox.unread import unread_events
from chat.messages.reactions import summarize
from chat.messages.views import encode_message
from chat.ws import frames
from chat.ws.connection import Connection
from chat.ws.session import TOO_MANY_SOCKETS, session_end_for_close
from chat.ws.socket_cap import Eviction, SocketCap
from chat.ws.store import Positioned, positioned
from core import jsontext

log = logging.getLogger(__name__)
SUBSCRIBE_TIMEOUT_S = 5.0
#: events about a message that members get at a position of their inbox (chat/messages/changes.py)
POSITIONED_EVENTS = ("edit", "reaction")
#: event frames that change who is in a group
MEMBERSHIP_FRAMES = (frames.event_prefix("member"), frames.event_prefix("group"))


#: one payload as the hub makes it: a text (`f`, `c`), or an item at the user's inbox position (text: `p`)
Part = str | Positioned


class Parts(list[Part]):
    """Payloads for one user's channel published as one broker message, in order. A subscriber in this process
    gets the list itself; other processes get its text, `str()` (the Redis broker)."""

    def __str__(self) -> str:
        texts = [part if isinstance(part, str) else positioned_text(part) for part in self]
        return texts[0] if len(texts) == 1 else "m" + jsontext.dumps(texts)


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def positioned_text(item: Positioned) -> str:
    """A positioned part's text, the `p` payload."""
    header = [item.pos, item.sender_id, item.client_id] if item.event is None else [item.pos, None, None, item.event]
    return "p" + jsontext.dumps(header) + "\n" + item.message_json


def parts_of(payload: str | Parts) -> Parts:
    """The parts of what a channel delivered: a `Parts` as it is (this process), or its text decoded."""
    if isinstance(payload, Parts):
        return payload
    texts = jsontext.loads(payload[1:]) if payload[:1] == "m" else [payload]
    return Parts(_positioned_of(text) if text[:1] == "p" else text for text in texts)


def _positioned_of(text: str) -> Positioned:
    header, _, data_json = text[1:].partition("\n")
    pos, sender_id, client_id, *event = jsontext.loads(header)
    return Positioned(pos, data_json, sender_id, client_id, event[0] if event else None)


def frame_payload(frame_json: str) -> str:
    return "f" + frame_json


def control_payload(**control) -> str:
    return "c" + jsontext.dumps(control)


def payloads_for(event: dict[str, Any]) -> list[tuple[str, Part]]:
    """(channel, payload) pairs for one committed event; the message JSON is encoded once."""
    kind = event["type"]
    if kind == "message":
        message = event["message"]
        encoded = event.get("message_json") or encode_message(message)
        cursors = event["cursors"]
        out: list[tuple[str, Part]] = []
        for uid in event["recipients"]:
            pos = cursors.get(uid)
            if pos is None:  # a room: live only, no cursor
                out.append((user_channel(uid), frame_payload(frames.message(encoded))))
            else:
                out.append((user_channel(uid), positioned(pos, message, encoded)))
        for unread_event in unread_events(event.get("unread") or {}):
            out += payloads_for(unread_event)
        return out
    if kind in POSITIONED_EVENTS:
        return _positioned_event_payloads(event)
    data = {k: v for k, v in event.items() if k not in ("type", "recipients", "message_json")}
    frame = frame_payload(frames.event(kind, data))
    return [(user_channel(uid), frame) for uid in event.get("recipients", ())]


def _positioned_event_payloads(event: dict[str, Any]) -> list[tuple[str, Part]]:
    """An edit or a reaction change, at each recipient's inbox position (rooms: live, without one)."""
    kind, cursors = event["type"], event["cursors"]
    shared = jsontext.dumps({"message": event["message"]}) if kind == "edit" else ""
    out: list[tuple[str, Part]] = []
    for uid in event["recipients"]:
        data_json = shared or jsontext.dumps({**event["state"], "reactions": summarize(event["rows"], uid),
                                            "change": event["change"]})
        pos = cursors.get(uid)
        out.append((user_channel(uid), frame_payload(frames.event_json(kind, data_json)) if pos is None
                    else Positioned(pos, data_json, None, None, kind)))
    return out


def publish_events(events: list[dict[str, Any]]) -> None:
    """The app's publisher (`core.db`): one commit's chat events through its broker, in one round trip.

    A sender's copy of their message that only the socket it came from would get here (`Hub.own_copy_here`) is
    for other processes only (`Broker.publish_many`'s `elsewhere`), unless the commit has more for that user."""
    hub: Hub = current_app.extensions["chat_hub"]
    by_channel: dict[str, Parts] = {}
    for_all: set[str] = set()  # channels with a payload every socket of their user needs
    for event in events:
        sender = hub.own_copy_here(event)
        if sender is not None:
            for channel, payload in payloads_for({**event, "recipients": [sender], "unread": None}):
                by_channel.setdefault(channel, Parts()).append(payload)
            event = {**event, "recipients": [uid for uid in event["recipients"] if uid != sender]}
        for channel, payload in payloads_for(event):
            by_channel.setdefault(channel, Parts()).append(payload)
            for_all.add(channel)
    if by_channel:
        current_app.extensions["broker"].publish_many(
            [pair for pair in by_channel.items() if pair[0] in for_all],
            elsewhere=[pair for pair in by_channel.items() if pair[0] not in for_all])


def publish_session_end(sender, *, user_id: int, token_id: int | None = None, **_kw: Any) -> None:
    """Signal receiver: a revoked token (4401) or a ban (4403) closes the user's sockets everywhere."""
    control = ({"close": frames.CLOSE_UNAUTHORIZED, "token_id": token_id} if token_id is not None
               else {"close": frames.CLOSE_BANNED})
    current_app.extensions["broker"].publish(user_channel(user_id), control_payload(**control))


class Hub:
    """Registers connections, subscribes their users' channels, and routes payloads to them."""

    def __init__(self, broker, presence=None, on_membership: Callable[[int], None] | None = None,
                 cap: SocketCap | None = None) -> None:
        self.broker = broker
        self.presence = presence  # told of each user's first and last socket here, under our lock
        self.on_membership = on_membership  # told the group id of each member/group event routed here
        self.cap = cap or SocketCap(None)  # sockets of one user; the oldest are closed beyond
        self._lock = threading.Lock()
        # Per user, in the order they registered (a dict keeps it): the first is the oldest.
        self._conns: dict[int, dict[Connection, None]] = defaultdict(dict)
        self._subs: dict[int, Subscription] = {}
        broker.on_reconnect(self._after_broker_reconnect)

    def register(self, conn: Connection) -> bool:
        """Add a connection; True once its user's channel is subscribed (confirmed by the broker).

        Past the cap of sockets of the user, the oldest ones are closed with 4429, here or elsewhere."""
        with self._lock:
            conns = self._conns[conn.user_id]
            if not conns and self.presence is not None:
                self.presence.arrived(conn.user_id)
            conns[conn] = None
            here = list(conns)
            sub = self._subs.get(conn.user_id)
            if sub is None:
                uid = conn.user_id
                sub = self.broker.subscribe(user_channel(uid), lambda payload: self._route(uid, payload))
                self._subs[uid] = sub
        self._evict(conn.user_id, self.cap.opened(conn, here))  # outside our lock: it may ask Redis
        return sub.ready.wait(SUBSCRIBE_TIMEOUT_S)

    def unregister(self, conn: Connection) -> None:
        with self._lock:
            conns = self._conns.get(conn.user_id)
            if conns is None:
                return
            known = conn in conns
            conns.pop(conn, None)
            if not conns:
                del self._conns[conn.user_id]
                if self.presence is not None:
                    self.presence.left(conn.user_id)
                sub = self._subs.pop(conn.user_id, None)
                if sub is not None:
                    sub.close()
        if known:
            self.cap.closed(conn)

    def _evict(self, user_id: int, eviction: Eviction) -> None:
        for old in eviction.here:
            log.info("user %s has more than %s sockets: closing the oldest", user_id, self.cap.limit)
            old.push_frame(TOO_MANY_SOCKETS.frame())
            old.close(TOO_MANY_SOCKETS.close_code, TOO_MANY_SOCKETS.message)
        for socket_id in eviction.elsewhere:
            log.info("user %s has more than %s sockets: closing the oldest in another process", user_id,
                     self.cap.limit)
            self.broker.publish(user_channel(user_id),
                                control_payload(close=TOO_MANY_SOCKETS.close_code, socket=socket_id))

    def connections(self, user_id: int) -> list[Connection]:
        with self._lock:
            return list(self._conns.get(user_id, ()))

    def all_connections(self) -> list[Connection]:
        with self._lock:
            return [c for conns in self._conns.values() for c in conns]

    def is_online(self, user_id: int) -> bool:
        with self._lock:
            return bool(self._conns.get(user_id))

    def own_copy_here(self, event: dict[str, Any]) -> int | None:
        """The sender of a message whose socket it came from is their only one in this process: that socket's
        ack is the same message at the same inbox position, so the sender's copy is only for their sockets
        elsewhere. None otherwise; room messages (no inbox position) keep it everywhere.

        A socket the sender opens here after this check reads its hello position after the commit, so it
        never waits for that copy."""
        origin = event.get("origin")
        if origin is None or origin.user_id not in (event.get("cursors") or ()):
            return None
        with self._lock:
            only_origin = list(self._conns.get(origin.user_id, ())) == [origin]
        return origin.user_id if only_origin else None

    def close_all(self, code: int, reason: str = "") -> None:
        for conn in self.all_connections():
            conn.close(code, reason)

    def _route(self, user_id: int, payload: str | Parts) -> None:
        conns = self.connections(user_id)
        if conns:
            for part in parts_of(payload):
                self._route_to(conns, user_id, part)

    def _route_to(self, conns: list[Connection], user_id: int, payload: Part) -> None:
        if isinstance(payload, Positioned):
            for conn in conns:
                conn.push_positioned(payload)
            return
        kind, rest = payload[:1], payload[1:]
        if kind == "f":
            if self.on_membership is not None and rest.startswith(MEMBERSHIP_FRAMES):
                self.on_membership(jsontext.loads(rest)["data"]["group_id"])
            for conn in conns:
                conn.push_frame(rest)
        elif kind == "c":
            self._control(conns, jsontext.loads(rest))
        else:
            log.warning("unknown payload on %s: %.40r", user_channel(user_id), payload)

    def _control(self, conns: Iterable[Connection], control: dict) -> None:
        code = control.get("close")
        if code is None:
            return
        end = session_end_for_close(code, control.get("reason"))
        socket_id = control.get("socket")
        for conn in conns:
            if socket_id is not None and self.cap.socket_id(conn) != socket_id:
                continue
            if control.get("token_id") in (None, conn.token_id):
                conn.push_frame(end.frame())
                conn.close(end.close_code, end.message)

    def _after_broker_reconnect(self) -> None:
        # Whatever was published while the broker was away is only in the database now.
        for conn in self.all_connections():
            conn.request_catch_up()
