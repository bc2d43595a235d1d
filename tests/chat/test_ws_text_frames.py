"""The socket's own text-frame encoder (used when the client offered no extension) writes exactly the bytes
wsproto would, at every length boundary of RFC 6455's size field and for any UTF-8."""
from __future__ import annotations

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from chat.ws.socket import _text_frame


@pytest.mark.parametrize("text", ["", "a" * 125, "a" * 126, "b" * 65535, "c" * 65536, "你好,在吗?" * 20000,
                                  '{"op":"message","message":{"body":{"text":"🙂 拍拍"}}}'])
def test_a_text_frame_is_the_bytes_wsproto_writes(text):
    assert _text_frame(text) == Connection(ConnectionType.SERVER).send(TextMessage(data=text))
