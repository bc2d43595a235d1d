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


def _say(live: Live, actor, group_id: int, text: str) -> None:
    live.call("POST", f"/groups/{group_id}/messages", actor,
              json={"client_id": f"say-{group_id}-{text}", "type": "txt", "body": {"text": text}})


def test_the_badge_counts_chats_not_muted_pinned_chats_come_first_and_peer_reads_show_as_read(
        live, live_server, factory, new_context, shots):
    seller = factory.user(nickname="卖家老周")
    first = factory.user(nickname="买家甲")
    second = factory.user(nickname="买家乙")
    g1 = live.call("POST", f"/users/{seller.id}/direct", first, json={})["id"]
    g2 = live.call("POST", f"/users/{seller.id}/direct", second, json={})["id"]
    _say(live, first, g1, "甲:在吗")
    _say(live, second, g2, "乙:能便宜点吗")

    page = ChatPage(new_context(), live_server.url).login(seller.username, PASSWORD)
    badge = "#unread-total"
    page.page.wait_for_selector(f"{badge}[data-total='2']:not(.hidden)")
    rows = lambda: page.page.eval_on_selector_all(  # noqa: E731
        "#conversation-list li.conversation", "els => els.map(e => Number(e.dataset.groupId))")
    assert rows() == [g2, g1]

    page.conversation(g1).locator("button.flag.pin").click()  # pinned: first, although older
    page.page.wait_for_selector(f"#conversation-list li.conversation.pinned[data-group-id='{g1}']")
    assert rows() == [g1, g2]
    assert page.page.is_hidden("#thread-main")  # the toggle is not a click on the row

    page.conversation(g2).locator("button.flag.mute").click()  # muted: dimmed, out of the badge
    page.page.wait_for_selector(f"#conversation-list li.conversation.muted-chat[data-group-id='{g2}']")
    page.page.wait_for_selector(f"{badge}[data-total='1']")
    _say(live, second, g2, "乙:最低多少")
    page.wait_unread(g2, 2)
    _say(live, first, g1, "甲:我要了")
    page.wait_unread(g1, 2)
    assert rows() == [g1, g2]
    page.page.wait_for_selector(f"{badge}[data-total='2']")  # the muted chat's two never counted
    shots(page.page, "chat-pinned-and-muted")
    assert live.call("GET", "/conversations", seller)["unread_total"] == 2

    page.open(g1)  # read: the badge empties
    page.wait_message("甲:我要了")
    page.page.wait_for_selector(f"{badge}[data-total='0'].hidden", state="attached")
    page.send_text("好的,明天发货")
    page.wait_message("好的,明天发货")
    mine = "#messages li.msg.own[data-seq]"
    assert page.page.locator(f"{mine}.read").count() == 0
    seq = live.call("GET", f"/groups/{g1}/messages", seller)["items"][-1]["seq"]
    r = live.client.post(f"/api/v1/groups/{g1}/read", base_url=live.url, headers=first.headers, json={"seq": seq})
    assert r.status_code < 300, r.get_data(as_text=True)
    page.page.wait_for_selector(f"{mine}.read")  # 已读, live from the buyer's read
    shots(page.page, "chat-peer-read")

    page.page.reload()  # after a restart: from peer_read_seq in the list
    page.wait_connection("live")
    page.page.wait_for_selector(f"#conversation-list li.conversation.pinned[data-group-id='{g1}']")
    page.open(g1)
    page.page.wait_for_selector(f"{mine}.read")
    assert "已读" in page.page.eval_on_selector(f"{mine}.read .meta", "e => getComputedStyle(e, '::after').content")

    page.conversation(g2).locator("button.flag.mute").click()  # unmuted: its two count again
    page.page.wait_for_selector(f"{badge}[data-total='2']:not(.hidden)")
    page.conversation(g1).locator("button.flag.pin").click()
    page.page.wait_for_selector(f"#conversation-list li.conversation:not(.pinned)[data-group-id='{g1}']")
    assert page.errors == []
