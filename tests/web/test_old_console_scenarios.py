"""The old IM console's three scenarios (original-im-integration.txt), replayed end to end in real
browsers with demo1 and demo2: a one-to-one chat; a group created in the console, demo2 added and a test
message sent from the console; a chat room with demo1 as its owner (the old super admin) and demo2 as
its admin. Every step goes through the pages' own UI; the API is only read to check the outcome."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.web.pages import AdminPage, ChatPage, Live

pytestmark = pytest.mark.slow


@pytest.fixture
def live(client, live_server) -> Live:
    return Live(client, live_server.url)


def test_one_to_one_group_and_room_as_the_old_console_tested_them(live, live_server, factory, new_context, shots):
    admin = factory.admin()
    demo1 = factory.user("demo1", nickname="demo1")
    demo2 = factory.user("demo2", nickname="demo2")
    one = ChatPage(new_context(), live_server.url).login(demo1.username, PASSWORD)
    two = ChatPage(new_context(), live_server.url).login(demo2.username, PASSWORD)

    # 1. One-to-one: demo1 opens the direct chat with demo2 and sends; demo2 receives it.
    one.page.fill("#direct-user", str(demo2.id))
    one.page.press("#direct-user", "Enter")
    opened = one.page.locator("#conversation-list li.conversation.active")
    opened.wait_for()
    direct_id = int(opened.get_attribute("data-group-id"))
    one.send_text("你好 demo2,我是 demo1")
    one.wait_message("你好 demo2,我是 demo1")
    two.wait_unread(direct_id, 1)
    two.open(direct_id)
    two.wait_message("你好 demo2,我是 demo1")
    shots(two.page, "direct-demo2")

    # 2. Group: the console creates it (demo1 owns it), adds demo2, and sends a test message.
    console = AdminPage(new_context(), live_server.url).login(admin.username, PASSWORD)
    console.show("groups")
    console.page.click("#create-group")
    console.dialog(name="测试群组", owner_id=str(demo1.id))
    console.page.wait_for_selector(f"#conversation .members li[data-user-id='{demo1.id}'][data-role=owner]")
    group_id = int(console.page.evaluate("() => Number(location.hash.split('/')[1])"))
    console.page.click("#add-member")
    console.dialog(user_id=str(demo2.id))
    console.page.wait_for_selector(f"#conversation .members li[data-user-id='{demo2.id}'][data-role=member]")
    console.page.fill("#admin-composer input[name=text]", "来自控制台的测试消息")
    console.page.click("#admin-composer button[type=submit]")
    console.page.locator("#admin-messages li", has_text="来自控制台的测试消息").first.wait_for()
    shots(console.page, "console-group")
    two.conversation(group_id).wait_for()
    assert "测试群组" in two.conversation(group_id).inner_text() and "(2)" in two.conversation(group_id).inner_text()
    two.open(group_id)
    two.wait_message("来自控制台的测试消息")
    two.page.wait_for_selector(f"#thread-members li[data-user-id='{demo1.id}'][data-role=owner]")
    one.conversation(group_id).wait_for()
    one.open(group_id)
    one.wait_message("来自控制台的测试消息")
    shots(two.page, "group-demo2")
    detail = live.call("GET", f"/groups/{group_id}", demo2)
    assert detail["kind"] == "group" and {(m["user"]["id"], m["role"]) for m in detail["members"]} == {
        (demo1.id, "owner"), (demo2.id, "member")}

    # 3. Room: the console creates it, makes demo1 its owner and demo2 its admin.
    console.show("groups")
    console.page.click("#create-room")
    console.dialog(name="测试聊天室")
    console.page.wait_for_selector(f"#conversation .members li[data-user-id='{admin.id}'][data-role=owner]")
    room_id = int(console.page.evaluate("() => Number(location.hash.split('/')[1])"))
    console.page.click("#set-owner")
    console.dialog(user_id=str(demo1.id))
    console.page.wait_for_selector(f"#conversation .members li[data-user-id='{demo1.id}'][data-role=owner]")
    console.page.click("#add-member")
    console.dialog(user_id=str(demo2.id), role="admin")
    console.page.wait_for_selector(f"#conversation .members li[data-user-id='{demo2.id}'][data-role=admin]")
    shots(console.page, "console-room")
    roles = {m["user"]["id"]: m["role"] for m in live.call("GET", f"/admin/groups/{room_id}", admin)["members"]}
    assert roles[demo1.id] == "owner" and roles[demo2.id] == "admin"
    one.page.click("#refresh")
    one.conversation(room_id).wait_for()
    one.open(room_id)
    one.page.wait_for_selector("#thread-role", state="attached")
    assert one.page.inner_text("#thread-role") == "群主"
    assert one.errors == [] and two.errors == [] and console.errors == []
