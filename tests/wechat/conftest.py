"""The `wechat` fixture: our stand-in WeChat server (tests/support/wechat_server.py), with the app pointed at it."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.wechat_server import WeChatServer

SETTINGS = ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE", "WECHAT_TEMPLATE_ID")


@pytest.fixture
def wechat(clean_app) -> Iterator[WeChatServer]:
    """WECHAT_API_BASE points at a WeChat stand-in on a free port (the real API is unreachable from tests)."""
    saved = {name: clean_app.config.get(name) for name in SETTINGS}
    with WeChatServer() as server:
        clean_app.config.update(WECHAT_APPID=server.state.appid, WECHAT_SECRET=server.state.secret,
                                WECHAT_API_BASE=server.base, WECHAT_TEMPLATE_ID=server.state.template_id)
        try:
            yield server
        finally:
            clean_app.config.update(saved)
