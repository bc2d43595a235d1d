"""The OpenAPI document says what the server enforces: rules with their codes, media types, bounds,
links that resolve, examples that match their schemas, and a request line every query fits in."""
from __future__ import annotations

import io
import re

import pytest

from chat.conversations.cursor import MAX_CURSOR_CHARS
from chat.openapi_doc import LINKS as CHAT_LINKS
from chat.openapi_doc import RULES as CHAT_RULES
from core.openapi import PREFIX, RULE_CODES, RULE_FIELDS, RULES_HEADING
from core.server_limits import LIMIT_REQUEST_LINE
from marketplace.openapi_doc import LINKS as MARKET_LINKS
from marketplace.openapi_doc import RULES as MARKET_RULES
from marketplace.uploads.media import ALLOWED
from tests.support.schemas import errors

API = PREFIX
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
       b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def spec(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def op(spec: dict, key: str) -> dict:
    method, path = key.split(" ", 1)
    return spec["paths"][API + path][method.lower()]


def test_every_rule_is_in_its_operations_description_and_listed_under_its_status(spec):
    for key, rules in {**MARKET_RULES, **CHAT_RULES}.items():
        operation = op(spec, key)
        assert RULES_HEADING in operation["description"], key
        for rule in rules:
            assert f"({rule.status} `{rule.code}`)" in operation["description"], (key, rule)
            response = operation["responses"][str(rule.status)]
            assert rule.code in response[RULE_CODES] and set(rule.fields) <= set(response[RULE_FIELDS]), key
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_rules_the_issue_names_are_stated(spec):
    stated = {key: op(spec, key)["description"] for key in (
        "GET /listings", "PUT /me/blocks/{user_id}", "POST /users/{user_id}/direct", "POST /groups/{group_id}/read",
        "POST /listings/{listing_id}/status", "GET /conversations", "POST /uploads")}
    assert "`min_price` is at most `max_price`" in stated["GET /listings"]
    assert "block yourself" in stated["PUT /me/blocks/{user_id}"]
    assert "with yourself" in stated["POST /users/{user_id}/direct"]
    assert "`last_seq`" in stated["POST /groups/{group_id}/read"]
    assert "active -> reserved, withdrawn" in stated["POST /listings/{listing_id}/status"]
    assert "`buyer_id` only with" in stated["POST /listings/{listing_id}/status"]
    assert "invalid_cursor" in stated["GET /conversations"]
    assert "415 `unsupported_media_type`" in stated["POST /uploads"]


def test_download_documents_every_type_an_upload_is_served_as(spec):
    download = op(spec, "GET /uploads/{name}")
    served = {media.content_type for media in ALLOWED.values()} | {"image/heif"}
    for status in ("200", "206"):
        assert set(download["responses"][status]["content"]) == served
    (name,) = spec["paths"][f"{API}/uploads/{{name}}"]["parameters"]
    assert re.match(name["schema"]["pattern"], "0123456789abcdef0123456789abcdef.png")
    form = op(spec, "POST /uploads")["requestBody"]["content"]["multipart/form-data"]
    assert set(form["encoding"]["file"]["contentType"].split(", ")) == set(ALLOWED)


def test_path_ids_are_documented_as_row_ids_and_zero_matches_no_route(spec, client, factory):
    (param,) = spec["paths"][f"{API}/listings/{{listing_id}}"]["parameters"]
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**63 - 1
    assert client.get(f"{API}/listings/0").status_code == 404


def test_every_query_an_operation_documents_fits_in_the_servers_request_line(spec):
    """At its documented maxima, percent-encoded (non-ASCII text: 4 UTF-8 bytes as %XX each), with the path."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            length = len(f"{method.upper()} {path}? HTTP/1.1")
            for p in operation.get("parameters", []):
                if p["in"] != "query":
                    continue
                schema = p["schema"]
                if schema.get("type") == "string":
                    per_char = 1 if "pattern" in schema or "enum" in schema else 12
                    longest = max(map(len, schema["enum"])) if "enum" in schema else schema["maxLength"]
                    value = longest * per_char
                else:
                    value = 20  # an integer or boolean
                length += len(p["name"]) + 2 + value
            assert length <= LIMIT_REQUEST_LINE, f"{method.upper()} {path}: {length}"


def test_links_point_at_operations_and_their_parameters(spec):
    for source, links in {**MARKET_LINKS, **CHAT_LINKS}.items():
        responses = op(spec, source)["responses"]
        documented = {name for r in responses.values() if isinstance(r, dict) for name in r.get("links", {})}
        for link in links:
            assert link.name in documented, (source, link.name)
            target = op(spec, link.target)
            item = spec["paths"][API + link.target.split(" ", 1)[1]]
            names = {p["name"] for p in item.get("parameters", []) + target.get("parameters", [])}
            assert set(link.parameters) <= names, (source, link)


@pytest.mark.parametrize("key,status,schema", [
    ("GET /listings/{listing_id}", "200", "Listing"),
    ("POST /listings", "201", "Listing"),
    ("POST /groups/{group_id}/messages", "201", "Message"),
    ("GET /conversations", "200", "ConversationPage"),
    ("GET /groups/{group_id}/messages", "200", "MessagePage"),
])
def test_response_examples_match_their_schemas(spec, key, status, schema):
    content = op(spec, key)["responses"][status]["content"]["application/json"]
    assert content["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    assert errors(spec, content["schema"], content["example"]) == []


def test_send_message_body_follows_its_type(spec):
    variants = spec["components"]["schemas"]["SendMessage"]["oneOf"]
    by_type = {v["properties"]["type"]["enum"][0]: v["properties"]["body"]["$ref"] for v in variants}
    assert by_type["txt"] == "#/components/schemas/TxtMessageBody"
    assert errors(spec, {"$ref": "#/components/schemas/SendMessage"},
                  {"client_id": "c1", "type": "img", "body": {"text": "hi"}})
    assert not errors(spec, {"$ref": "#/components/schemas/SendMessage"},
                      {"client_id": "c1", "type": "txt", "body": {"text": "hi"}})


def test_patch_me_without_a_body_is_a_400_and_changes_nothing(client, factory, spec):
    assert op(spec, "PATCH /me")["requestBody"]["required"] is True
    user = factory.user(nickname="小明")
    r = client.patch(f"{API}/me", headers=user.headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error"
    assert r.get_json()["error"]["details"]["fields"] == {"_body": ["Missing request body."]}
    assert client.get(f"{API}/me", headers=user.headers).get_json()["nickname"] == "小明"
    assert client.patch(f"{API}/me", json={"bio": "hi"}, headers=user.headers).status_code == 200


def test_a_claims_note_is_optional_and_so_documented(spec):
    assert op(spec, "POST /listings/{listing_id}/claims")["requestBody"]["required"] is False


def test_an_upload_with_form_fields_beside_the_file_is_refused(client, factory):
    user = factory.user()
    r = client.post(f"{API}/uploads", headers=user.headers, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(PNG), "a.png"), "title": "extra"})
    assert r.status_code == 400, r.get_json()
    assert "title" in r.get_json()["error"]["details"]["fields"]
    ok = client.post(f"{API}/uploads", headers=user.headers, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(PNG), "a.png")})
    assert ok.status_code == 201, ok.get_json()


def test_the_cursor_is_refused_beyond_its_documented_format_and_length(client, factory, spec):
    (cursor,) = [p for p in op(spec, "GET /conversations")["parameters"] if p["name"] == "cursor"]
    assert cursor["schema"]["maxLength"] == MAX_CURSOR_CHARS and cursor["schema"]["pattern"]
    user = factory.user()
    for bad in ("A" * (MAX_CURSOR_CHARS + 1), "a b", "0"):
        r = client.get(f"{API}/conversations", query_string={"cursor": bad}, headers=user.headers)
        assert r.status_code == 400, bad
    r = client.get(f"{API}/conversations", query_string={"listing_id": "true"}, headers=user.headers)
    assert r.status_code == 400 and "listing_id" in r.get_json()["error"]["details"]["fields"]


def test_a_listings_price_rule_is_in_its_schema_one_variant_per_kind(spec, client, factory):
    sale, donation = spec["components"]["schemas"]["ListingCreate"]["oneOf"]
    assert sale["properties"]["kind"]["enum"] == ["sale"] and sale["properties"]["price_cents"]["minimum"] == 1
    assert "price_cents" in sale["required"]
    assert donation["properties"]["price_cents"]["enum"] == [0]
    title = sale["properties"]["title"]
    assert not re.search(title["pattern"], "   ") and re.search(title["pattern"], " 台灯 ")
    seller = factory.user()
    body = {"kind": "sale", "title": "   ", "price_cents": 100, "category": "home", "condition": "good", "city": "上海"}
    assert client.post(f"{API}/listings", json=body, headers=seller.headers).status_code == 400
