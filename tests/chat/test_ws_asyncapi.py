"""`/ws` described in AsyncAPI 3: the document is valid, reuses the OpenAPI schemas, is linked from /docs,
and the frames of a real session match it (every WsClient in the suite checks each frame it receives)."""
from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import jsonschema
import pytest

from tests.support import frames
from tests.support.frames import FrameMismatch, check_server_frame, server_frame_validators
from tests.support.wsclient import WsClient

#: the official AsyncAPI 3.0.0 JSON Schema (npm @asyncapi/specs 6.11.1, schemas/3.0.0-without-$id.json,
#: Apache-2.0), kept compressed beside the test support code
OFFICIAL_SCHEMA = Path(__file__).resolve().parents[1] / "support" / "data" / "asyncapi-3.0.0.schema.json.gz"
API = "/api/v1"


@pytest.fixture
def document(client) -> dict:
    r = client.get(f"{API}/asyncapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def official_errors(document: dict) -> list[str]:
    schema = json.loads(gzip.decompress(OFFICIAL_SCHEMA.read_bytes()))
    return [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(document)]


def test_the_document_is_valid_asyncapi_3(document):
    assert document["asyncapi"] == "3.0.0"
    assert official_errors(document) == []
    broken = copy.deepcopy(document)
    broken["operations"]["sendHello"]["action"] = "publish"  # AsyncAPI 2's word: the schema must catch it
    assert official_errors(broken)


def test_every_reference_resolves_and_every_op_is_described(document):
    refs = [ref for ref in json.dumps(document).split('"$ref": "')[1:]]
    for ref in (r.split('"', 1)[0] for r in refs):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    ops = {m["name"] for m in document["components"]["messages"].values()}
    assert ops == {"hello", "message", "ack", "event", "synced", "pong", "error",
                   "send", "sync", "read", "typing", "ping", "edit", "react", "unreact"}


def test_messages_reuse_the_openapi_schemas(client, document):
    openapi = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    schemas = document["components"]["schemas"]
    assert set(openapi) <= set(schemas)
    assert schemas["Message"]["properties"].keys() == openapi["Message"]["properties"].keys()
    assert schemas["WsMessageFrame"]["properties"]["message"] == {"$ref": "#/components/schemas/Message"}
    send_variants = schemas["WsSendOp"]["oneOf"]
    assert [v["properties"]["body"] for v in send_variants] == \
        [v["properties"]["body"] for v in openapi["SendMessage"]["oneOf"]]


def test_docs_link_the_asyncapi_document(client):
    page = client.get("/docs").get_data(as_text=True)
    assert f'href="{API}/asyncapi.json"' in page
    assert "asyncapi.json" in client.get(f"{API}/openapi.json").get_json()["info"]["description"]


def test_a_frame_off_the_document_is_caught(document):
    validators = server_frame_validators(document)
    hello = {"op": "hello", "user_id": 1, "server_time": 1.5, "heartbeat_s": 25, "cursor": "abc"}
    assert not list(validators["hello"].iter_errors(hello))
    assert list(validators["hello"].iter_errors({**hello, "extra": 1}))
    assert list(validators["ack"].iter_errors({"op": "ack", "client_id": "c", "cursor": "x"}))  # no message
    assert list(validators["event"].iter_errors({"op": "event", "type": "typing", "data": {"group_id": 1}}))


def test_a_whole_session_matches_the_document(live_server, inquiry_pair, client):
    """hello, sync/synced, send/ack, message, read/typing/presence events, recall, pong and error frames."""
    seller, buyer, group_id = inquiry_pair
    before = frames.checked.copy()
    s = WsClient(live_server.ws_url, seller.token)
    b = WsClient(live_server.ws_url, buyer.token)
    try:
        s.ready()
        b.ready()
        b.send_text(group_id, "还在吗?", "c1")
        ack = b.op("ack")
        s.op("message")
        s.send({"op": "read", "group_id": group_id, "seq": ack["message"]["seq"]})
        s.send({"op": "typing", "group_id": group_id})
        b.recv_until(lambda f: f.get("op") == "event" and f["type"] == "typing")
        r = client.post(f"{API}/groups/{group_id}/messages/{ack['message']['id']}/recall", headers=buyer.headers)
        assert r.status_code == 200
        s.recv_until(lambda f: f.get("op") == "event" and f["type"] == "recall")
        s.send({"op": "nope"})
        assert s.op("error")["error"]["code"] == "unknown_op"
        s.flush()  # ping -> pong
    finally:
        s.close()
        b.close()
    seen = frames.checked - before
    assert {"hello", "synced", "ack", "message", "event", "error", "pong"} <= set(seen), seen


def test_the_client_refuses_a_frame_the_document_does_not_describe(live_server):
    with pytest.raises(FrameMismatch):
        check_server_frame(live_server.ws_url, {"op": "surprise"})
    with pytest.raises(FrameMismatch):
        check_server_frame(live_server.ws_url, {"op": "synced", "cursor": "x"})
