"""Every frame a test's WebSocket client receives is checked against the AsyncAPI document of `/ws`.

The document is fetched once from the first server a client talks to (every app serves the same
one); a frame whose `op` the document does not describe, or that breaks its schema, fails the test
that received it. `checked` counts the frames checked, by op.
"""
from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import jsonschema

ASYNCAPI_PATH = "/api/v1/asyncapi.json"

_lock = threading.Lock()
_validators: dict[str, jsonschema.Draft7Validator] = {}
checked: Counter = Counter()


class FrameMismatch(AssertionError):
    """A frame the server sent does not match the AsyncAPI document."""


def server_frame_validators(document: dict) -> dict[str, jsonschema.Draft7Validator]:
    """op -> validator of the frames the server sends (the operations whose action is `send`)."""
    validators = {}
    for operation in document["operations"].values():
        if operation["action"] != "send":
            continue
        for ref in operation["messages"]:
            key = ref["$ref"].rsplit("/", 1)[1]
            message = document["components"]["messages"][key]
            validators[message["name"]] = jsonschema.Draft7Validator(
                {"components": document["components"], **message["payload"]})
    return validators


def _load(ws_url: str) -> None:
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    with urllib.request.urlopen(f"{scheme}://{parts.netloc}{ASYNCAPI_PATH}", timeout=10) as response:
        _validators.update(server_frame_validators(json.load(response)))


def check_server_frame(ws_url: str, frame: Any) -> None:
    """Raise FrameMismatch unless `frame` matches the document's description of its `op`."""
    with _lock:
        if not _validators:
            _load(ws_url)
    op = frame.get("op") if isinstance(frame, dict) else None
    validator = _validators.get(op)
    if validator is None:
        raise FrameMismatch(f"the AsyncAPI document describes no server frame {op!r}: {frame!r}")
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(frame)'}: {e.message}" for e in validator.iter_errors(frame)]
    if problems:
        raise FrameMismatch(f"{op} frame breaks the AsyncAPI document: {problems}\n{frame!r}")
    checked[op] += 1
