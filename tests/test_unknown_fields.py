"""Unknown fields are refused everywhere: every write operation of the OpenAPI document, sent `{"bogus": 1}`
(or a multipart form with a `bogus` field), answers `400 validation_error` naming it and changes nothing."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from core.db import Base, db
from tests.chat.helpers import API, ChatHelper
from tests.marketplace.test_uploads import PNG
from tests.support.wsclient import WsClient

WRITE_METHODS = ("post", "put", "patch", "delete")


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def _write_operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get(f"{API}/openapi.json").get_json()
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in WRITE_METHODS]


def _bogus_request(client, method: str, url: str, op: dict, headers: dict):
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return client.open(url, method=method.upper(), headers=headers,
                           data={"file": (io.BytesIO(PNG), "a.png"), "bogus": "1"})
    return client.open(url, method=method.upper(), headers=headers, json={"bogus": 1})


def test_every_write_operation_refuses_an_unknown_field(client, factory):
    admin, peer = factory.admin(), factory.user()
    listing = factory.listing(peer)["id"]
    operations = _write_operations(client)
    assert len(operations) > 40  # the walk covers the whole API, not a handful of routes
    before = _row_counts(client.application)
    wrong = {}
    for path, method, op in operations:
        url = re.sub(r"\{[^}]+\}", lambda m: str(listing if m.group(0) == "{listing_id}" else peer.id), path)
        r = _bogus_request(client, method, url, op, admin.headers)
        body = r.get_json() or {}
        error = body.get("error", {})
        if r.status_code != 400 or error.get("code") != "validation_error" \
                or "bogus" not in error.get("details", {}).get("fields", {}):
            wrong[f"{method.upper()} {path}"] = (r.status_code, error or body)
    assert wrong == {}
    assert _row_counts(client.application) == before


@pytest.mark.parametrize("path", ["/listings/{listing}/inquiries", "/users/{peer}/direct"])
def test_routes_without_a_body_take_none_or_an_empty_object(client, factory, path):
    buyer, seller = factory.user(), factory.user()
    url = API + path.format(listing=factory.listing(seller)["id"], peer=seller.id)
    assert client.post(url, headers=buyer.headers).status_code == 201
    assert client.post(url, headers=buyer.headers, json={}).status_code == 200
    r = client.post(url, headers=buyer.headers, json={"bogus": 1})
    assert r.status_code == 400
    assert r.get_json()["error"] == {"code": "validation_error", "message": "The request is not valid.",
                                     "details": {"fields": {"bogus": ["Unknown field."]},
                                                 "request_id": r.headers["X-Request-ID"]}}
    r = client.post(url, headers=buyer.headers, json=[1])
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"
    r = client.post(url, headers=buyer.headers, data="{", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    r = client.post(url, headers=buyer.headers, data="bogus=1", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"


def test_unknown_fields_inside_a_body_are_refused_too(client, factory):
    chat = ChatHelper(client, factory)
    admin, buyer, seller = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    image = chat.upload(buyer)
    calls = {
        "rules.0": client.put(f"{API}/admin/keywords", headers=admin.headers, json={"rules": [
            {"pattern": "刷单", "kind": "word", "action": "block", "bogus": 1}]}),
        "body (txt)": chat.send_raw(buyer, group_id, {"client_id": "a", "type": "txt",
                                                      "body": {"text": "hi", "bogus": 1}}),
        "body (img)": chat.send_raw(buyer, group_id, {"client_id": "b", "type": "img",
                                                      "body": {"url": image, "bogus": 1}}),
        "body (custom)": chat.send_raw(buyer, group_id, {"client_id": "c", "type": "custom",
                                                         "body": {"event": "e", "data": {}, "bogus": 1}}),
        "body (admin system)": client.post(f"{API}/admin/groups/{group_id}/messages", headers=admin.headers,
                                           json={"type": "system", "body": {"text": "公告", "bogus": 1}}),
    }
    for name, r in calls.items():
        assert r.status_code == 400, (name, r.get_json())
        error = r.get_json()["error"]
        assert error["code"] == "validation_error" and "bogus" in json.dumps(error["details"]), (name, error)
    assert chat.history(buyer, group_id)["items"] == []


def test_unknown_fields_in_a_websocket_frame_are_refused(live_server, client, factory):
    chat = ChatHelper(client, factory)
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ws = WsClient(live_server.ws_url, buyer.token)
    try:
        ws.ready()
        for i, frame in enumerate([
                {"op": "send", "client_id": "f1", "group_id": group_id, "type": "txt", "body": {"text": "x"},
                 "bogus": 1},
                {"op": "send", "client_id": "f2", "group_id": group_id, "type": "txt",
                 "body": {"text": "x", "bogus": 1}},
                {"op": "ping", "bogus": 1}, {"op": "typing", "group_id": group_id, "bogus": 1}]):
            ws.send(frame)
            error = ws.op("error")["error"]
            assert error["code"] == "validation_error" and "bogus" in json.dumps(error["details"]), (i, error)
        ws.send_text(group_id, "ok", "f3")
        assert ws.op("ack")["message"]["seq"] == 1  # nothing before it was stored
    finally:
        ws.close()
