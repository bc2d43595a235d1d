"""/ws frame size cap over real sockets: a frame above WS_MAX_FRAME_BYTES, counted in UTF-8 bytes
(CJK text is 3 bytes a character), closes the socket with 1009; one at the cap is read."""
from __future__ import annotations

import pytest

from tests.support.wsclient import Closed, WsClient, serve, tuned_app, wait_until


@pytest.fixture
def small_frames(clean_app):
    with tuned_app(clean_app, WS_MAX_FRAME_BYTES=2048) as app, serve(app) as server:
        yield server


def _padded_ping(size: int, char: str = "x") -> str:
    """A ping frame of exactly `size` UTF-8 bytes (an unknown field pads it: it is refused, not fatal)."""
    head = '{"op":"ping","pad":"'
    width = len(char.encode())
    body = char * ((size - len(head) - 2) // width)
    text = head + body + '"}'
    return text + " " * (size - len(text.encode()))


@pytest.mark.parametrize("char", ["x", "拍"])
def test_a_frame_above_the_cap_closes_with_1009(small_frames, factory, char):
    user = factory.user()
    ws = WsClient(small_frames.ws_url, user.token)
    try:
        ws.ready()
        at_cap = _padded_ping(2048, char)
        assert len(at_cap.encode()) == 2048
        ws.send(at_cap)
        assert ws.op("error")["error"]["code"] == "validation_error"  # at the cap: read, and refused
        ws.send(_padded_ping(2049 + len(char.encode()), char))
        with pytest.raises(Closed) as closed:
            ws.op("pong")
        assert closed.value.code == 1009
    finally:
        ws.close()
    assert wait_until(lambda: not small_frames.app.extensions["chat_hub"].is_online(user.id), timeout=3)
