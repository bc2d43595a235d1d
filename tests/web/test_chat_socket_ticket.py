"""/chat in a real browser opens its socket with a single-use ticket: no access token in any WebSocket URL,
and after the server closes the socket the page reconnects with a fresh ticket."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.support.wsclient import wait_until
from tests.web.pages import ChatPage

pytestmark = pytest.mark.slow


def test_the_chat_page_connects_with_a_ticket_never_a_token(live_server, factory, new_context):
    user = factory.user(nickname="买家小李")
    page = ChatPage(new_context(), live_server.url)
    urls: list[str] = []
    page.page.on("websocket", lambda ws: urls.append(ws.url))
    page.login(user.username, PASSWORD)
    hub = live_server.app.extensions["chat_hub"]
    assert wait_until(lambda: hub.is_online(user.id))
    with page.page.expect_websocket(timeout=10_000):  # (Playwright's events need its own waits)
        hub.close_all(1001, "server going away")  # the page reconnects at once, with a new ticket
    page.wait_connection("live")
    assert len(urls) == 2
    assert all("?ticket=" in url and "access_token" not in url for url in urls), urls
    tickets = [url.split("?ticket=", 1)[1] for url in urls]
    assert len(set(tickets)) == len(tickets)  # each socket its own
    assert page.errors == []
