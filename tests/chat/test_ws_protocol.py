"""The fast paths of the hot path agree with their schemas: a `send` frame or a `txt` body they let
through is one the schema loads unchanged, and everything else still gets the schema's verdict."""
from __future__ import annotations

import json
from typing import Any, Callable

import marshmallow as ma
import pytest

from chat.messages.bodies import BODY_SCHEMAS, TEXT_MAX, validate_content
from chat.ws.protocol import SCHEMAS, parse_frame
from core.errors import ValidationError
from core.input import MAX_BIGINT

BASE = {"op": "send", "client_id": "c-1", "group_id": 7, "type": "txt", "body": {"text": "你好"}}


@pytest.mark.parametrize("change", [
    {}, {"ext": None}, {"ext": {"k": [1, 2]}}, {"client_id": "x" * 64}, {"group_id": MAX_BIGINT},
    {"client_id": ""}, {"client_id": "x" * 65}, {"client_id": 5}, {"client_id": "a\x00b"}, {"client_id": None},
    {"group_id": 0}, {"group_id": MAX_BIGINT + 1}, {"group_id": 7.0}, {"group_id": True}, {"group_id": "7"},
    {"type": 1}, {"type": None}, {"body": []}, {"body": "hi"}, {"body": None}, {"ext": []}, {"ext": "x"},
    {"extra": 1}, {"op": "send", "cursor": None},
])
def test_a_send_frame_parses_as_the_schema_says(change):
    frame = {**BASE, **change}
    same_verdict(SCHEMAS["send"], frame, lambda: parse_frame(_encode(frame)))


@pytest.mark.parametrize("missing", ["client_id", "group_id", "type", "body"])
def test_a_send_frame_missing_a_field_is_refused(missing):
    frame = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ValidationError) as caught:
        parse_frame(_encode(frame))
    assert missing in caught.value.details["fields"]


def _encode(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False)


@pytest.mark.parametrize("body", [
    {"text": "你好"}, {"text": "x" * TEXT_MAX}, {"text": "x" * (TEXT_MAX + 1)}, {"text": ""}, {"text": " "},
    {"text": 5}, {"text": None}, {}, {"text": "a", "extra": 1}, {"txt": "a"}, {"text": ["a"]},
])
def test_a_text_body_is_validated_as_its_schema_says(body):
    same_verdict(BODY_SCHEMAS["txt"], body, lambda: validate_content(type="txt", body=body, ext=None),
                 shape=lambda loaded: ("txt", loaded, None))


def same_verdict(schema: ma.Schema, value: dict, run: Callable[[], Any],
                 shape: Callable[[Any], Any] = lambda loaded: loaded) -> None:
    """`run()` refuses `value` (400) when the schema does, and otherwise returns what the schema loads."""
    try:
        expected = schema.load(value)
    except ma.ValidationError:
        with pytest.raises(ValidationError):
            run()
    else:
        assert run() == shape(expected)
