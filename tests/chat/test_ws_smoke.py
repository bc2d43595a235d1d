"""The /ws relay end to end over real sockets: hello, send → ack, push to the other party, sync."""
from __future__ import annotations

from tests.support.wsclient import WsClient


def test_send_is_acked_and_pushed_to_the_seller(live_server, inquiry_pair):
    seller, buyer, group_id = inquiry_pair
    b = WsClient(live_server.ws_url, buyer.token)
    s = WsClient(live_server.ws_url, seller.token, header=False)
    try:
        assert b.hello()["user_id"] == buyer.id
        s.hello()
        b.sync(None)
        s.sync(None)
        b.send({"op": "send", "client_id": "c1", "group_id": group_id, "type": "txt", "body": {"text": "还在吗?"}})
        ack = b.op("ack")
        assert ack["client_id"] == "c1" and ack["message"]["seq"] == 1 and ack["cursor"]
        pushed = s.op("message")
        assert pushed["message"]["body"] == {"text": "还在吗?"} and pushed["message"]["id"] == ack["message"]["id"]
    finally:
        b.close()
        s.close()


def test_reconnect_with_cursor_replays_what_was_missed(live_server, inquiry_pair, client):
    seller, buyer, group_id = inquiry_pair
    s = WsClient(live_server.ws_url, seller.token)
    s.hello()
    s.sync(None)
    cursor = None
    s.close()
    for i in range(5):
        r = client.post(f"/api/v1/groups/{group_id}/messages", headers=buyer.headers,
                        json={"client_id": f"r{i}", "type": "txt", "body": {"text": f"第{i}条"}})
        assert r.status_code == 201
    s = WsClient(live_server.ws_url, seller.token)
    try:
        s.hello()
        got = s.sync(cursor)
        assert [f["message"]["seq"] for f in got] == [1, 2, 3, 4, 5]
    finally:
        s.close()
