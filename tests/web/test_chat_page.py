"""/chat in a real browser: a buyer and a seller chat; the buyer goes offline and recovers every missed
message exactly once, in order; unread badges follow."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.support.wsclient import serve, tuned_app, wait_until
from tests.web.pages import ChatPage, Live, png

pytestmark = pytest.mark.slow


@pytest.fixture
def live_server(clean_app):
    """The app on a free port with a 0.5 s heartbeat: the server notices a silent socket quickly.

    Chromium's offline emulation stalls an open WebSocket rather than closing it; the page abandons
    its socket on the `offline` event, and the server drops it when its pings go unanswered."""
    with tuned_app(clean_app, WS_HEARTBEAT_S=0.5) as app, serve(app) as server:
        yield server


@pytest.fixture
def live(live_server) -> Live:
    return Live(live_server.app.test_client(), live_server.url)


def _online(live_server, user_id: int) -> bool:
    return live_server.app.extensions["chat_hub"].is_online(user_id)


def test_buyer_and_seller_chat_and_the_buyer_gets_what_it_missed_offline_exactly_once(
        live, live_server, factory, new_context, shots):
    seller = factory.user(nickname="卖家小王")
    buyer = factory.user(nickname="买家小李")
    listing = live.listing(seller, "九成新 Switch 游戏机", 120000)

    buyer_context = new_context()
    buyer_page = ChatPage(buyer_context, live_server.url).login(buyer.username, PASSWORD, shots)
    buyer_page.page.fill("#inquiry-listing", str(listing["id"]))
    buyer_page.page.press("#inquiry-listing", "Enter")  # ask the seller: the item chat opens
    opened = buyer_page.page.locator("#conversation-list li.conversation.active")
    opened.wait_for()
    group_id = int(opened.get_attribute("data-group-id"))
    buyer_page.send_text("你好,还在吗?")
    buyer_page.wait_message("你好,还在吗?")
    buyer_page.page.reload()  # back to the bare list; the session is kept
    buyer_page.wait_connection("live")
    buyer_page.wait_unread(group_id, 0)

    seller_page = ChatPage(new_context(), live_server.url).login(seller.username, PASSWORD)
    seller_page.wait_unread(group_id, 1)
    shots(seller_page.page, "chat-list-seller")

    seller_page.open(group_id)
    seller_page.wait_message("你好,还在吗?")
    seller_page.wait_unread(group_id, 0)
    seller_page.send_text("在的,可以小刀")
    seller_page.wait_message("在的,可以小刀")
    buyer_page.wait_unread(group_id, 1)  # live, while the buyer looks at the list

    buyer_page.open(group_id)
    buyer_page.wait_message("在的,可以小刀")
    buyer_page.wait_unread(group_id, 0)
    buyer_page.page.set_input_files("#image-input", files=[
        {"name": "实拍.png", "mimeType": "image/png", "buffer": png(rgb=(40, 120, 200))}])
    seller_page.page.locator("#messages li.msg[data-seq][data-type='img'] img.photo").wait_for()
    shots(seller_page.page, "chat-thread-seller")

    buyer_context.set_offline(True)
    buyer_page.wait_connection("offline")
    # Dropped on the server's side too: what the seller sends now can only reach the buyer through sync.
    assert wait_until(lambda: not _online(live_server, buyer.id), timeout=5), "the buyer's socket stayed open"
    missed = ["第一条:周六下午可以自提", "第二条:地址在徐汇", "第三条:到了给我打电话"]
    for text in missed:
        seller_page.send_text(text)
        seller_page.wait_message(text)
    buyer_page.send_text("好的,我马上到")  # kept until acked, sent again once back online
    shots(buyer_page.page, "chat-buyer-offline")

    buyer_context.set_offline(False)
    buyer_page.wait_connection("live")
    buyer_page.wait_message(missed[-1])
    buyer_page.wait_message("好的,我马上到")
    seller_page.wait_message("好的,我马上到")
    shown = buyer_page.shown()
    assert [text for _seq, text in shown[-4:]] == [*missed, "好的,我马上到"]
    assert [text for _seq, text in seller_page.shown()].count("好的,我马上到") == 1
    assert [text for _seq, text in shown].count(missed[0]) == 1
    seqs = [seq for seq, _text in shown]
    assert seqs == list(range(1, len(seqs) + 1))  # every message once, in seq order, no gap
    buyer_page.wait_unread(group_id, 0)
    shots(buyer_page.page, "chat-buyer-back-online")
    assert wait_until(lambda: live.call("GET", "/conversations", buyer)["items"][0]["unread_count"] == 0)
    assert seller_page.errors == [] and buyer_page.errors == []
