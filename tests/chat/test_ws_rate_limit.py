"""Sends over /ws share the REST send limit: past it an `error` frame rate_limited, and the socket stays."""
from __future__ import annotations

from tests.chat.helpers import ChatHelper
from tests.support.wsclient import WsClient, serve


def test_a_send_over_the_limit_gets_an_error_frame_and_the_socket_stays(limited, factory):
    app = limited(send="6/hour burst 3")
    chat = ChatHelper(app.test_client(), factory)
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "先在 REST 发一条")  # one bucket for both ways of sending
    with serve(app) as server:
        ws = WsClient(server.ws_url, buyer.token)
        try:
            ws.ready()
            for i in range(2):
                ws.send_text(group_id, f"第{i}条", f"ok-{i}")
                assert ws.op("ack")["client_id"] == f"ok-{i}"
            ws.send_text(group_id, "太快了", "too-fast")
            error = ws.op("error")
            assert error["client_id"] == "too-fast"
            assert error["error"]["code"] == "rate_limited" and error["error"]["message"]
            assert error["error"]["details"]["limit"] == "send"
            assert error["error"]["details"]["retry_after"] >= 1
            ws.send({"op": "ping"})
            assert ws.op("pong") == {"op": "pong"}  # the same socket still answers
            ws.send({"op": "read", "group_id": group_id, "seq": 1})
            assert [f for f in ws.flush() if f["op"] == "error"] == []
        finally:
            ws.close()
    texts = [m["body"]["text"] for m in chat.history(seller, group_id)["items"]]
    assert texts == ["先在 REST 发一条", "第0条", "第1条"]
