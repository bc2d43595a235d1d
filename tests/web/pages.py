"""Helpers of the browser tests: screenshots, test images, data made through the live server, and the
/chat page's moves."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.factories import Actor


@dataclass
class Shots:
    folder: Path
    prefix: str

    def __call__(self, page, name: str) -> Path:
        path = self.folder / f"{self.prefix}-{name}.png"
        page.screenshot(path=str(path))
        return path


def png(width: int = 48, height: int = 48, rgb: tuple[int, int, int] = (255, 106, 0)) -> bytes:
    """A solid-colour PNG (real pixels, so it renders and passes the upload's content sniffing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


class Live:
    """REST calls made through the test client but addressed to the live server's host, so the URLs the
    app hands out (uploads) are ones the browser can load."""

    def __init__(self, client: FlaskClient, url: str) -> None:
        self.client = client
        self.url = url

    def call(self, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> Any:
        headers = actor.headers if actor else {}
        r = self.client.open(f"/api/v1{path}", method=method, base_url=self.url, headers=headers, **kwargs)
        assert r.status_code < 400, (path, r.status_code, r.get_json())
        return r.get_json()

    def upload(self, actor: Actor, rgb: tuple[int, int, int] = (255, 106, 0)) -> str:
        import io
        data = {"file": (io.BytesIO(png(rgb=rgb)), "cover.png")}
        return self.call("POST", "/uploads", actor, data=data, content_type="multipart/form-data")["url"]

    def listing(self, seller: Actor, title: str, price_cents: int, rgb: tuple[int, int, int] = (255, 106, 0)) -> dict:
        return self.call("POST", "/listings", seller, json={
            "kind": "sale", "title": title, "description": "成色很新,同城自提。", "price_cents": price_cents,
            "category": "electronics", "condition": "like_new", "city": "上海", "images": [self.upload(seller, rgb)]})


class BrowserPage:
    """One page (/chat or /admin) in a browser context; JavaScript errors it logs are kept in `errors`."""

    path = ""

    def __init__(self, context, base_url: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)

    def _console(self, msg) -> None:
        # Chromium logs the socket the page abandoned while offline failing later: expected, not a bug.
        if msg.type == "error" and not msg.text.startswith("WebSocket connection to"):
            self.errors.append(msg.text)

    def submit_login(self, username: str, password: str, shots: Shots | None = None) -> None:
        self.page.goto(f"{self.base_url}/{self.path}")
        self.page.fill("#login-username", username)
        self.page.fill("#login-password", password)
        if shots:
            shots(self.page, f"{self.path}-login")
        self.page.click("#login-form button[type=submit]")


class ChatPage(BrowserPage):
    """The /chat page of one user."""

    path = "chat"

    def login(self, username: str, password: str, shots: Shots | None = None) -> ChatPage:
        self.submit_login(username, password, shots)
        self.wait_connection("live")
        return self

    def wait_connection(self, status: str) -> None:
        self.page.wait_for_selector(f"body[data-connection={status}]", state="attached")

    def conversation(self, group_id: int):
        return self.page.locator(f"#conversation-list li[data-group-id='{group_id}']")

    def wait_unread(self, group_id: int, count: int) -> None:
        self.page.wait_for_selector(f"#conversation-list li[data-group-id='{group_id}'][data-unread='{count}']")

    def open(self, group_id: int) -> None:
        self.conversation(group_id).click()
        self.page.wait_for_selector("#thread-main:not(.hidden)")

    def send_text(self, text: str) -> None:
        self.page.fill("#text-input", text)
        self.page.press("#text-input", "Enter")

    def wait_message(self, text: str) -> None:
        """Until a stored message (it has a seq) with this text shows in the open conversation."""
        self.page.locator("#messages li.msg[data-seq] .bubble", has_text=text).first.wait_for()

    def shown(self) -> list[tuple[int, str]]:
        """(seq, text) of every stored message in the open conversation, top to bottom."""
        return [(int(seq), text) for seq, text in self.page.eval_on_selector_all(
            "#messages li.msg[data-seq]", "els => els.map(e => [e.dataset.seq, e.querySelector('.bubble').textContent])")]


class AdminPage(BrowserPage):
    """The /admin console of one admin."""

    path = "admin"

    def login(self, username: str, password: str, shots: Shots | None = None) -> AdminPage:
        self.submit_login(username, password, shots)
        self.page.wait_for_selector("#screen[data-ready=reports]")
        return self

    def show(self, screen: str) -> None:
        """Open a screen (`reports`, `groups/12`, ...) and wait until it has loaded."""
        self.page.evaluate("hash => { location.hash = hash; }", screen)
        self.page.wait_for_selector(f"#screen[data-ready={screen.split('/')[0]}]")

    def row(self, key: str, value: int):
        return self.page.locator(f"#screen tr[data-{key}='{value}']")

    def dialog(self, submit: bool = True, **values: str) -> None:
        """Fill the open form dialog's fields by name and submit it."""
        self.page.wait_for_selector("#dialog[open]")
        for name, value in values.items():
            field = self.page.locator(f"#dialog [name={name}]")
            if field.evaluate("el => el.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        if submit:
            self.page.click("#dialog button[type=submit]")
        self.page.wait_for_selector("#dialog:not([open])", state="attached")
