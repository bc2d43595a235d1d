"""core.jsontext: orjson's speed with the standard library's compact text, for every value the server writes."""
from __future__ import annotations

import json

import pytest

from core import jsontext

VALUES = [
    {"op": "message", "message": {"id": 1, "body": {"text": "还能便宜点吗?🙂 \"引号\" \\ \n"}, "ext": None}},
    [1, None, "c-1"],
    {"f": 1.5, "g": 0.1, "h": -0.0, "big": 2**63 - 1, "neg": -(2**63), "t": True, "nested": [[], {}]},
    "\u2028\u2029\x00\x1f\x7f",
    [],
]


@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_the_standard_librarys_compact_text(value):
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert jsontext.loads(jsontext.dumps(value)) == value


@pytest.mark.parametrize("value", [{"n": 2**64}, {"n": -(2**70)}, {1: "integer key"}, [10**30]])
def test_what_orjson_refuses_falls_back_to_the_same_text(value):
    assert jsontext.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("value", [{"n": 2**64}, {"n": -(2**70)}, [10**30, 1.5], {"id": 2**63 - 1}])
def test_integers_past_64_bits_read_back_as_the_same_integers(value):
    text = jsontext.dumps(value)
    for read in (jsontext.loads(text), jsontext.loads(text.encode())):
        assert json.dumps(read) == json.dumps(value)  # an int read as a float would print otherwise


def test_what_neither_encodes_is_a_type_error():
    with pytest.raises(TypeError):
        jsontext.dumps({"when": object()})
    assert jsontext.dumps({"tuple": (1, 2)}) == '{"tuple":[1,2]}'
