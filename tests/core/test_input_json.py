"""core.input.loads_strict: orjson where it reads client JSON as the standard library does, the standard
library otherwise; either way the same values and the same refusals."""
from __future__ import annotations

import json

import pytest

from core.input import loads_strict


@pytest.mark.parametrize("text", [
    '{"op":"send","client_id":"c1","group_id":7,"type":"txt","body":{"text":"还在吗?"}}',
    '[1, -0, 1.5e3, -0.0, true, false, null, "\\u00e9\\ud83d\\ude00"]',
    '{"a": 1, "a": 2}',
    '[9223372036854775807, 18446744073709551615, 123456789012345678901234567890]',
    '[1e999]',
    " [1] ",
])
def test_the_same_values_as_the_standard_library(text):
    value = loads_strict(text)
    assert value == json.loads(text) and json.dumps(value) == json.dumps(json.loads(text))


def test_integers_past_64_bits_stay_integers():
    assert loads_strict('{"group_id": 123456789012345678901234567890}') == {"group_id": 123456789012345678901234567890}
    assert type(loads_strict("[18446744073709551616]")[0]) is int


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", "[-Infinity]", '"\\ud800"', '"a\\u0000b"', '{"a": "\\udc00x"}',
                                  "[1,]", "\ufeff[1]", '"a\x00b"', "", "[" * 5000 + "]" * 5000])
def test_the_same_refusals(text):
    with pytest.raises(json.JSONDecodeError):
        loads_strict(text)
