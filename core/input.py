"""Input hygiene shared by REST and WebSocket: strict JSON, and no NUL characters anywhere.

NaN/Infinity, unpaired surrogates and NUL characters are valid to Python's json module
but not to PostgreSQL, to UTF-8 text frames or to other clients; refusing them at the
door (400) beats a 500 after a half-done write.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

from core import jsontext
from core.errors import ValidationError

#: the largest value a BIGINT column holds; no id, seq or position can be beyond it
MAX_BIGINT = 2**63 - 1
#: a row id: beyond MAX_BIGINT no row can exist (and SQLite/PostgreSQL would fail to bind it)
ROW_ID = validate.Range(min=1, max=MAX_BIGINT)
#: the largest value an INTEGER column holds (a group's message seqs are INTEGER)
MAX_INT = 2**31 - 1
#: a message seq in a group (0 = before the first)
SEQ = validate.Range(min=0, max=MAX_INT)



class JsonBoolean(fields.Boolean):
    """A boolean in a JSON body: `true` or `false` only (marshmallow's Boolean also takes 0, 1, "yes")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not accepted")
        value.encode("utf-8")  # UnicodeEncodeError (a ValueError) on an unpaired surrogate
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON, refusing NaN/Infinity, NUL characters and unpaired surrogates.

    Raises json.JSONDecodeError (a ValueError), so callers treat it as any malformed body;
    RecursionError on absurd nesting is turned into the same.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError: not UTF-8
    try:
        value = jsontext.loads(text, parse_constant=_refuse_constant)
        if _SUSPECT_ESCAPE.search(text):
            _check_strings(value)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(f"not acceptable JSON: {exc}", text or " ", 0) from None
    return value


def register_query_check(app: Flask) -> None:
    """Refuse query strings carrying NUL characters (no column can store or match them)."""
    @app.before_request
    def _no_nul_in_query() -> None:
        bad = sorted({key for key, value in request.args.items(multi=True) if "\x00" in key or "\x00" in value})
        if bad:
            raise ValidationError("NUL characters are not accepted.",
                                  details={"fields": {key.replace("\x00", ""): ["Contains a NUL character."]
                                                      for key in bad}})


class RowIdConverter(IntegerConverter):
    """`<int:...>` in URLs: a row id, 1 to what a BIGINT holds; any other number matches no route (404), never a 500."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_BIGINT)
        super().__init__(map, *args, **kwargs)


def register_row_id_converter(app: Flask) -> None:
    """Make `<int:...>` bounded; call before any route is registered."""
    app.url_map.converters["int"] = RowIdConverter
