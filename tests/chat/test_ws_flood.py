"""Typing and read floods over /ws, on a real server with real sockets: typing is coalesced per user and
group and rate limited per user, membership comes from a cache (no query per frame), reads that move
nothing cost nothing and the rest are rate limited, and one user's flood neither starves another
user's requests nor cuts the victim's socket off."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from chat.ws.chatter import group_cache
from tests.chat.helpers import ChatHelper
from tests.support.servers import HttpApi
from tests.support.wsclient import WsClient, serve, tuned_app

FLOOD_SOCKETS = 4
FLOOD_FRAMES = 1500


class StatementCounter:
    """Counts the SQL statements an app's engine runs (any thread) while attached."""

    def __init__(self, app) -> None:
        self.engine = app.extensions["db"].engine
        self.count = 0
        self._lock = threading.Lock()

    def _hit(self, *_args) -> None:
        with self._lock:
            self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hit)


def _flood(ws_url: str, token: str, frame: dict, frames: int) -> None:
    ws = WsClient(ws_url, token, timeout=60)
    try:
        ws.ready()
        for _ in range(frames):
            ws.send(frame)
        ws.send({"op": "ping"})
        ws.op("pong")  # every frame before it was handled
    finally:
        ws.close()


def _typing_seen(ws: WsClient) -> list[dict]:
    return [f for f in ws.seen if f.get("type") == "typing"]


def test_a_typing_flood_from_many_sockets_costs_no_queries_and_starves_nobody(clean_app, factory):
    with tuned_app(clean_app, WS_TYPING_INTERVAL_S=600) as app, serve(app) as server:
        chat = ChatHelper(app.test_client(), factory)
        flooder, victim, bystander, seller = factory.user(), factory.user(), factory.user(), factory.user()
        group_id = chat.direct(flooder, victim)  # anyone can open a direct chat with anyone
        chat.item_group(bystander, seller)
        http = HttpApi(server.url)
        victim_ws = WsClient(server.ws_url, victim.token)
        try:
            victim_ws.ready()
            with StatementCounter(app) as one_list:
                baseline = http.expect(200, "GET", "/conversations", token=bystander.token)
            answers: list[tuple[int, object]] = []
            done = threading.Event()

            def bystander_lists() -> None:
                while not done.is_set():
                    answers.append(http.call("GET", "/conversations", token=bystander.token))

            frame = {"op": "typing", "group_id": group_id}
            flooders = [threading.Thread(target=_flood, args=(server.ws_url, flooder.token, frame, FLOOD_FRAMES))
                        for _ in range(FLOOD_SOCKETS)]
            lister = threading.Thread(target=bystander_lists)
            with StatementCounter(app) as during:
                lister.start()
                for t in flooders:
                    t.start()
                for t in flooders:
                    t.join(120)
                done.set()
                lister.join(60)
            # The bystander was answered all along, with the same list.
            assert answers and all(status == 200 and body == baseline for status, body in answers)
            # The flood itself cost (almost) nothing: the bystander's lists, the sockets' hellos and
            # syncs, and one read of the group; not two queries per typing frame.
            per_socket = 10
            assert during.count <= len(answers) * one_list.count + FLOOD_SOCKETS * per_socket + 5, \
                (during.count, len(answers), one_list.count)
            # The victim heard one typing event (coalesced), and still gets messages.
            chat.send(flooder, group_id, "在吗")
            victim_ws.op("message")
            assert len(_typing_seen(victim_ws)) == 1
        finally:
            victim_ws.close()


def test_typing_is_coalesced_per_user_and_group(clean_app, factory):
    with tuned_app(clean_app, WS_TYPING_INTERVAL_S=600) as app, serve(app) as server:
        chat = ChatHelper(app.test_client(), factory)
        a, b = factory.user(), factory.user()
        first, second = chat.direct(a, b), chat.item_group(a, b)
        a_ws, b_ws = WsClient(server.ws_url, a.token), WsClient(server.ws_url, b.token)
        try:
            a_ws.ready(), b_ws.ready()
            for _ in range(5):
                for gid in (first, second):
                    a_ws.send({"op": "typing", "group_id": gid})
            assert [f for f in a_ws.flush() if f["op"] == "error"] == []
            chat.send(a, second, "好的")
            b_ws.op("message")
            assert sorted(f["data"]["group_id"] for f in _typing_seen(b_ws)) == sorted([first, second])
        finally:
            a_ws.close(), b_ws.close()


def test_typing_past_the_user_limit_is_dropped(limited, factory):
    app = limited(typing="6/hour burst 3", config={"WS_TYPING_INTERVAL_S": 0})
    chat = ChatHelper(app.test_client(), factory)
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    with serve(app) as server:
        a_ws, b_ws = WsClient(server.ws_url, a.token), WsClient(server.ws_url, b.token)
        try:
            a_ws.ready(), b_ws.ready()
            for _ in range(10):
                a_ws.send({"op": "typing", "group_id": group_id})
            assert [f for f in a_ws.flush() if f["op"] == "error"] == []  # a hint: dropped silently
            chat.send(a, group_id, "好的")
            b_ws.op("message")
            assert len(_typing_seen(b_ws)) == 3
        finally:
            a_ws.close(), b_ws.close()


def test_typing_membership_is_cached_and_outsiders_get_404(clean_app, factory):
    with tuned_app(clean_app, WS_TYPING_INTERVAL_S=0) as app, serve(app) as server:
        chat = ChatHelper(app.test_client(), factory)
        a, b, outsider = factory.user(), factory.user(), factory.user()
        group_id = chat.direct(a, b)
        a_ws, out_ws = WsClient(server.ws_url, a.token), WsClient(server.ws_url, outsider.token)
        try:
            a_ws.ready(), out_ws.ready()
            for _ in range(20):
                a_ws.send({"op": "typing", "group_id": group_id})
                out_ws.send({"op": "typing", "group_id": group_id})
            assert [f for f in a_ws.flush() if f["op"] == "error"] == []
            errors = [f["error"]["code"] for f in out_ws.flush() if f["op"] == "error"]
            assert errors == ["not_found"] * 20
            assert group_cache(app).loads <= 2  # 40 frames: the group read once (twice if both first frames raced)
        finally:
            a_ws.close(), out_ws.close()


def test_a_membership_event_drops_the_group_from_the_cache(clean_app, factory):
    with tuned_app(clean_app) as app, serve(app) as server:
        client = app.test_client()
        chat = ChatHelper(client, factory)
        owner, admin, newcomer = factory.user(), factory.admin(), factory.user()
        room_id = chat.room(owner)
        ws = WsClient(server.ws_url, owner.token)
        try:
            ws.ready()
            ws.send({"op": "typing", "group_id": room_id})
            ws.flush()
            assert group_cache(app).peek(room_id) is not None
            r = client.post(f"/api/v1/admin/groups/{room_id}/members", json={"user_id": newcomer.id},
                            headers=admin.headers)
            assert r.status_code in (200, 201), r.get_json()
            ws.recv_until(lambda f: f.get("type") == "member")
            assert group_cache(app).peek(room_id) is None
        finally:
            ws.close()


def test_reads_that_move_nothing_are_free_and_the_rest_are_rate_limited(limited, factory):
    app = limited(read="6/hour burst 3")
    chat = ChatHelper(app.test_client(), factory)
    a, b = factory.user(), factory.user()
    group_id = chat.direct(a, b)
    for i in range(6):
        chat.send(b, group_id, f"第{i}条")
    with serve(app) as server:
        ws = WsClient(server.ws_url, a.token)
        try:
            ws.ready()
            ws.send({"op": "read", "group_id": group_id, "seq": 1})
            for _ in range(50):  # the same marker again: answered from memory, never counted
                ws.send({"op": "read", "group_id": group_id, "seq": 1})
            for seq in range(2, 7):
                ws.send({"op": "read", "group_id": group_id, "seq": seq})
            errors = [f["error"] for f in ws.flush() if f["op"] == "error"]
            assert [e["code"] for e in errors] == ["rate_limited"] * 3
            assert {e["details"]["limit"] for e in errors} == {"read"}
        finally:
            ws.close()
    r = app.test_client().get("/api/v1/conversations", headers=a.headers).get_json()
    assert [c["unread_count"] for c in r["items"] if c["group_id"] == group_id] == [3]  # read up to 3
