"""Log set-up: JSON lines (timestamp, level, logger, message, request id, user id) or plain text on a terminal."""
from __future__ import annotations

import logging
import re
import sys
from typing import Any

from flask import g, has_request_context
from pythonjsonlogger.json import JsonFormatter

from core.requestid import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s] %(message)s"
_HANDLER_MARK = "_paipai_handler"
# A credential in a URL, wherever a line quotes one (werkzeug's request lines, exceptions, our own).
_CREDENTIAL = re.compile(r"\b((?:access_token|ticket|token)=)[^&\s\"'#]+")


def current_user_id() -> int | None:
    """The user the current request acts for, once known (a token resolved, a socket authenticated)."""
    if not has_request_context():
        return None
    uid = g.get("log_user_id")
    if uid is None:
        user = g.get("current_user")
        uid = getattr(user, "id", None)
    return uid


def note_user(user_id: int) -> None:
    """Name the user in the current request's log lines (e.g. a socket, authenticated by hand)."""
    g.log_user_id = user_id


class ContextFilter(logging.Filter):
    """Adds request_id and user_id to every record (None outside a request); redacts URL credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message or "ticket=" in message:
            record.msg, record.args = _CREDENTIAL.sub(r"\1[redacted]", message), None
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        if not hasattr(record, "user_id"):
            record.user_id = current_user_id()
        return True


def make_formatter(kind: str, stream: Any = None) -> logging.Formatter:
    """`json`, `text`, or `auto`: text when `stream` is a terminal, JSON otherwise."""
    if kind == "auto":
        stream = stream or sys.stderr
        kind = "text" if hasattr(stream, "isatty") and stream.isatty() else "json"
    if kind == "text":
        return logging.Formatter(TEXT_FORMAT)
    return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
                         rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False)


def configure_logging(level: str = "INFO", kind: str = "auto", stream: Any = None) -> logging.Handler:
    """One handler on the root logger (replacing ours from an earlier app, leaving others' alone)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(kind, handler.stream))
    handler.addFilter(ContextFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
