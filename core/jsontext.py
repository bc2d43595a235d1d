"""Compact JSON text on the hot path (message frames, broker payloads, JSON columns): orjson, and the
standard library for the rare value orjson refuses, so both give the same text."""
from __future__ import annotations

import json
import re
from typing import Any

import orjson

# a run of digits that may be an integer past 64 bits
_LONG_NUMBER = re.compile(r"\d{19}")


def dumps(value: Any) -> str:
    """Compact JSON text with UTF-8 kept as is: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a key that is not a string
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes, **stdlib_options: Any) -> Any:
    """The value of JSON text, as `json.loads(text, **stdlib_options)` reads it: orjson where it reads the
    text the same, the standard library for what orjson refuses (so the same errors, or `stdlib_options`'
    say) or would read differently: orjson reads an integer past 64 bits as a float. Bytes are UTF-8
    (psycopg hands JSON columns over as bytes)."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")
    if not _LONG_NUMBER.search(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text, **stdlib_options)
