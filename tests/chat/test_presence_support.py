"""Presence test support (no tests here): an extra app instance on the test database sharing Redis under a
private prefix, the list's `peer.online` as an instance serves it, connected sockets, presence frames."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from flask import Flask

from tests.chat.helpers import API
from tests.support.apps import close_app, make_app
from tests.support.wsclient import LiveServer, WsClient, serve


def private_prefix() -> str:
    """Keys of one test only: parallel runs on one Redis never see each other's presence."""
    return f"test-presence-{secrets.token_hex(6)}:"


@contextmanager
def instance(base: Flask, tmp: Path, **settings: Any) -> Iterator[LiveServer]:
    """Another app (another "process") on `base`'s database, served on a free port; closed on exit."""
    app = make_app(tmp, base.config["DATABASE_URL"], **settings)
    try:
        with serve(app) as server:
            yield server
    finally:
        close_app(app)


def peer_online(app: Flask, viewer, group_id: int) -> bool:
    """`peer.online` of one conversation in the viewer's list, as served by `app`."""
    r = app.test_client().get(f"{API}/conversations", query_string={"limit": 100}, headers=viewer.headers)
    assert r.status_code == 200, r.get_json()
    (item,) = [c for c in r.get_json()["items"] if c["group_id"] == group_id]
    return item["peer"]["online"]


def connect(server: LiveServer, actor) -> WsClient:
    ws = WsClient(server.ws_url, actor.token)
    ws.ready()
    return ws


def is_presence(user_id: int, online: bool):
    return lambda f: f.get("op") == "event" and f.get("type") == "presence" and f["data"] == {
        "user_id": user_id, "online": online}
