"""Compact JSON text on the hot path (message frames, broker payloads, JSON columns): orjson, and the
standard library for the rare value orjson refuses, so both give the same text."""
from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text with UTF-8 kept as is: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a key that is not a string
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value of JSON text this server wrote (client input goes through core.input's strict parser)."""
    return orjson.loads(text)
