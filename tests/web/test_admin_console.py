"""/admin in a real browser: an admin approves a listing, bans a user (their open socket is closed),
resolves a report, adds a keyword rule that then blocks a message, and sends test messages that a
buyer's socket receives; every screen is screenshotted."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.support.wsclient import WsClient
from tests.web.pages import AdminPage, Live

pytestmark = pytest.mark.slow


@pytest.fixture
def live(client, live_server) -> Live:
    return Live(client, live_server.url)


@pytest.fixture
def sockets():
    """Open WsClients, closed after the test."""
    opened: list[WsClient] = []
    yield opened
    for ws in opened:
        ws.close()


def _text_message(frame: dict, text: str) -> bool:
    return frame.get("op") == "message" and frame["message"]["body"].get("text") == text


def test_admin_moderates_and_messages_through_the_console(live, live_server, factory, new_context, shots, sockets):
    admin = factory.admin()
    seller = factory.user(nickname="卖家老张")
    buyer = factory.user(nickname="买家小美")
    spammer = factory.user(nickname="<img src=x onerror=pwned=1>")  # shown as text, never run
    queued = live.listing(seller, "全新未拆封 AirPods Pro", 129900)
    factory.set_listing(queued["id"], status="pending_review")
    listing = live.listing(seller, "宜家书架 八成新", 8000, rgb=(90, 160, 90))
    group_id = live.call("POST", f"/listings/{listing['id']}/inquiries", buyer)["id"]
    report = live.call("POST", "/reports", buyer, json={"target_type": "listing", "target_id": listing["id"],
                                                         "reason": "图片疑似盗图"})
    buyer_ws = WsClient(live_server.ws_url, buyer.token)
    spammer_ws = WsClient(live_server.ws_url, spammer.token)
    sockets.extend([buyer_ws, spammer_ws])
    buyer_ws.ready()
    spammer_ws.ready()

    console = AdminPage(new_context(), live_server.url)
    console.submit_login(buyer.username, PASSWORD)
    console.page.get_by_text("administrators only").wait_for()  # a user's token is refused (and revoked)
    console.login(admin.username, PASSWORD, shots)

    # Reports: resolve (dismiss, with a note); the open queue empties.
    console.row("report-id", report["id"]).get_by_role("button").click()
    shots(console.page, "admin-reports-resolve")
    console.dialog(action="dismiss", note="核实为实拍,驳回")
    console.row("report-id", report["id"]).wait_for(state="detached")
    resolved = live.call("GET", "/admin/reports", admin, query_string={"status": "resolved"})["items"]
    assert [(r["id"], r["resolution"], r["resolution_note"]) for r in resolved] == [
        (report["id"], "dismiss", "核实为实拍,驳回")]

    # Listing review: approve the queued listing.
    console.show("listings")
    shots(console.page, "admin-listings")
    console.row("listing-id", queued["id"]).locator("button[data-action=approve]").click()
    console.row("listing-id", queued["id"]).wait_for(state="detached")
    assert live.call("GET", f"/listings/{queued['id']}")["status"] == "active"

    # Users: find the spammer and ban them; their open socket is closed with 4403.
    console.show("users")
    console.page.fill("#screen input[name=q]", spammer.username)
    console.page.press("#screen input[name=q]", "Enter")
    console.row("user-id", spammer.id).locator("button[data-action=ban]").click()
    console.dialog(reason="批量发布广告")
    assert spammer_ws.close_status(timeout=3) == 4403
    console.row("user-id", spammer.id).locator("button[data-action=unban]").wait_for()
    assert console.row("user-id", spammer.id).get_by_text("<img src=x onerror=pwned=1>").count() == 1
    assert console.page.evaluate("typeof window.pwned") == "undefined"
    shots(console.page, "admin-users")

    # Keyword rules: add a blocking word; the buyer's next message containing it is refused.
    console.show("keywords")
    console.page.click("#add-rule")
    rule = console.page.locator("#screen tr.rule").last
    rule.locator("input[name=pattern]").fill("加微信")
    rule.locator("select[name=action]").select_option("block")
    console.page.click("#save-rules")
    console.page.get_by_text("1 条规则").wait_for()
    shots(console.page, "admin-keywords")
    assert live.call("GET", "/admin/keywords", admin)["rules"][0]["pattern"] == "加微信"
    buyer_ws.send_text(group_id, "便宜点吧,加微信聊", client_id="blocked-1")
    refused = buyer_ws.op("error")
    assert (refused["client_id"], refused["error"]["code"]) == ("blocked-1", "content_blocked")

    # Groups: open the buyer's item chat and send a test message; the buyer's socket gets it.
    console.show(f"groups/{group_id}")
    console.page.fill("#admin-composer input[name=text]", "平台测试消息:请在站内交易")
    console.page.press("#admin-composer input[name=text]", "Enter")
    console.page.locator("#admin-messages li.msg[data-seq]", has_text="平台测试消息").wait_for()
    frame = buyer_ws.recv_until(lambda f: _text_message(f, "平台测试消息:请在站内交易"))
    assert frame["message"]["group_id"] == group_id and frame["message"]["sender"]["id"] == admin.id
    shots(console.page, "admin-group-conversation")
    # The admin is not in this chat, so nothing is pushed to its socket: the console polls and shows the
    # buyer's next message by itself, with one audited history read for it.
    buyer_ws.send_text(group_id, "还能再便宜一点吗", client_id="after-admin")
    console.page.locator("#admin-messages li.msg[data-seq]", has_text="还能再便宜一点吗").wait_for()

    # Rooms: create one, add the buyer, post a system message; the buyer's socket gets it live.
    console.page.click("#create-room")
    console.dialog(name="二手交流群", description="闲置好物交流")
    console.page.wait_for_selector("#add-member")
    console.page.click("#add-member")
    console.dialog(user_id=str(buyer.id), role="member")
    console.page.locator(f"#conversation .members li[data-user-id='{buyer.id}']").wait_for()
    console.page.select_option("#admin-composer select[name=type]", "system")
    console.page.fill("#admin-composer input[name=text]", "欢迎加入二手交流群")
    console.page.press("#admin-composer input[name=text]", "Enter")
    frame = buyer_ws.recv_until(lambda f: _text_message(f, "欢迎加入二手交流群"))
    assert frame["message"]["type"] == "system" and frame["message"]["sender"] is None
    console.page.locator("#admin-messages li.msg.system", has_text="欢迎加入二手交流群").wait_for()
    assert console.page.locator("#admin-messages li.msg", has_text="欢迎加入二手交流群").count() == 1
    shots(console.page, "admin-room")

    # Audit log: every action above is there, filterable by action.
    console.show("audit")
    shots(console.page, "admin-audit")
    actions = set(console.page.eval_on_selector_all("#screen tbody tr[data-action]", "rs => rs.map(r => r.dataset.action)"))
    assert {"report.resolve", "listing.approve", "user.ban", "keywords.replace", "group.message_post",
            "room.create", "group.member_add", "group.history_read"} <= actions
    console.page.fill("#screen input[name=action]", "user.ban")
    console.page.press("#screen input[name=action]", "Enter")
    console.page.wait_for_function("() => [...document.querySelectorAll('#screen tbody tr')].length === 1")
    assert console.errors == []
