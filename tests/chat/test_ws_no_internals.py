"""Errors over /ws never carry stack traces, SQL or exception text: a generic error frame, and the socket stays."""
from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError

from chat.ws import ops, send_queue
from tests.chat.helpers import ChatHelper
from tests.support.wsclient import WsClient

SECRET_SQL = "SELECT password_hash FROM users WHERE id = 1 -- Traceback secret"
LEAKS = ("Traceback", "SELECT", "password_hash", "secret", "RuntimeError", "OperationalError", "File ")


def _crash(exc: Exception):
    def raising(*args, **kwargs):
        raise exc
    return raising


@pytest.mark.parametrize("op, module, target, exc, code", [
    ("read", ops, "mark_read", RuntimeError(SECRET_SQL), "internal_error"),
    ("read", ops, "mark_read", OperationalError(SECRET_SQL, {}, Exception("secret")), "internal_error"),
    ("send", send_queue, "send_many", RuntimeError(SECRET_SQL), "internal_error"),
    ("send", send_queue, "send_many", OperationalError(SECRET_SQL, {}, Exception("secret")), "service_unavailable"),
])
def test_a_failing_op_answers_a_generic_error_frame(live_server, factory, monkeypatch, op, module, target, exc,
                                                    code):
    buyer, seller = factory.user(), factory.user()
    chat = ChatHelper(live_server.app.test_client(), factory)
    group_id = chat.item_group(buyer, seller)
    chat.send(seller, group_id, "在的")  # something to read: a read of nothing new is answered from memory
    monkeypatch.setattr(module, target, _crash(exc))
    ws = WsClient(live_server.ws_url, buyer.token)
    try:
        ws.ready()
        if op == "read":
            ws.send({"op": "read", "group_id": group_id, "seq": 1})
        else:
            ws.send_text(group_id, "你好", "c-1")
        error = ws.op("error")
        assert error["error"]["code"] == code
        text = json.dumps(error, ensure_ascii=False)
        assert not [leak for leak in LEAKS if leak in text], text
        ws.send({"op": "ping"})
        assert ws.op("pong")
    finally:
        ws.close()
