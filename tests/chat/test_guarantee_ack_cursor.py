"""Guarantee: the cursor of an `ack` is safe to resume from, like the cursor of a `message`.

A client keeps the last cursor it saw, whatever frame carried it. So an ack must never
carry a cursor ahead of messages the socket has not delivered yet (a send before the
client's sync, or a send racing another member's message), nor behind messages already
delivered (a retried client_id answered again): resuming from it would lose messages
or replay them twice. A client that resumes says so on connect (`/ws?cursor=`), and its
first sends are acked after the replay.
"""
from __future__ import annotations

from chat.cursors import decode_cursor
from tests.chat.broker_support import RedisServer
from tests.support.servers import HttpApi, own_app
from tests.support.wsclient import WsClient, serve

API = "/api/v1"


def post(client, actor, group_id: int, client_id: str) -> dict:
    r = client.post(f"{API}/groups/{group_id}/messages", headers=actor.headers,
                    json={"client_id": client_id, "type": "txt", "body": {"text": f"消息 {client_id}"}})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def send_frame(group_id: int, client_id: str) -> dict:
    return {"op": "send", "client_id": client_id, "group_id": group_id, "type": "txt",
            "body": {"text": f"设备消息 {client_id}"}}


def resume(ws_url: str, token: str, cursor: str | None) -> tuple[list[dict], str]:
    """A new socket that syncs from `cursor`: the message/ack frames replayed, and the final cursor."""
    ws = WsClient(ws_url, token)
    try:
        ws.hello()
        ws.send({"op": "sync", "cursor": cursor})
        got = []
        while True:
            frame = ws.recv_until(lambda f: f["op"] in ("message", "ack", "synced"))
            if frame["op"] != "synced":
                got.append(frame)
            elif frame["more"]:
                ws.send({"op": "sync", "cursor": frame["cursor"]})
            else:
                return got, frame["cursor"]
    finally:
        ws.close()


def test_a_send_right_after_resuming_on_connect_is_acked_after_the_missed_messages(live_server, client,
                                                                                   inquiry_pair):
    seller, buyer, group_id = inquiry_pair
    _, cursor = resume(live_server.ws_url, seller.token, None)
    missed = [post(client, buyer, group_id, f"m{i}")["id"] for i in range(3)]

    ws = WsClient(live_server.ws_url, seller.token, resume=cursor)  # back online: flush the outbox at once
    try:
        ws.hello()
        ws.send(send_frame(group_id, "early"))
        frames = []
        while not frames or frames[-1]["op"] != "ack":
            frames.append(ws.recv_until(lambda f: f["op"] in ("message", "ack", "synced")))
    finally:
        ws.close()
    positioned = [f for f in frames if f["op"] != "synced"]
    assert [f["op"] for f in positioned] == ["message"] * 3 + ["ack"]
    assert [f["message"]["id"] for f in positioned[:3]] == missed
    assert positioned[-1]["client_id"] == "early" and positioned[-1]["message"]["seq"] == 4
    start = decode_cursor(cursor)
    assert [decode_cursor(f["cursor"]) for f in positioned] == [start + 1, start + 2, start + 3, start + 4]


def test_an_ack_never_skips_a_message_the_broker_lost(clean_app, database_url, tmp_path):
    with RedisServer(tmp_path / "redis") as redis_server, \
            own_app(tmp_path, database_url, REDIS_URL=redis_server.url, WS_CATCH_UP_S=3600.0) as app, \
            serve(app) as server:
        api = HttpApi(server.url)
        seller, buyer = api.user("seller"), api.user("buyer")
        group_id = api.inquiry(buyer, api.listing(seller))
        ws = WsClient(server.ws_url, seller.token)
        try:
            ws.hello()
            ws.sync(None)
            redis_server.kill()  # the buyer's message is committed, its live frame lost
            lost = api.send(buyer, group_id, "lost", "这条没推送", status=201)
            ws.send(send_frame(group_id, "mine"))
            frames = [ws.recv_until(lambda f: f["op"] in ("message", "ack")) for _ in range(2)]
        finally:
            ws.close()
        assert [(f["op"], decode_cursor(f["cursor"])) for f in frames] == [("message", 1), ("ack", 2)]
        assert frames[0]["message"]["id"] == lost["id"]
        redis_server.start()  # a new socket needs its channel subscribed
        replayed, _ = resume(server.ws_url, seller.token, frames[0]["cursor"])
        assert [f["message"]["client_id"] for f in replayed] == ["mine"]


def test_a_retried_send_is_acked_without_moving_the_cursor_back(live_server, client, inquiry_pair):
    seller, buyer, group_id = inquiry_pair
    ws = WsClient(live_server.ws_url, seller.token)
    try:
        ws.hello()
        ws.sync(None)
        ws.send(send_frame(group_id, "once"))
        first = ws.op("ack")
        for i in range(3):
            post(client, buyer, group_id, f"after{i}")
        latest = [ws.op("message") for _ in range(3)][-1]["cursor"]
        ws.send(send_frame(group_id, "once"))  # the client never saw the ack, say: it sends again
        again = ws.op("ack")
    finally:
        ws.close()
    assert again["client_id"] == "once" and again["message"]["id"] == first["message"]["id"]
    assert decode_cursor(again["cursor"]) >= decode_cursor(latest)
    replayed, _ = resume(live_server.ws_url, seller.token, again["cursor"])
    assert replayed == [], "resuming from the repeated ack replays messages already delivered"
