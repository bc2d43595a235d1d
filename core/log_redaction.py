"""Secrets never reach a log line: `access_token=` and `ticket=` values (in request lines, URLs, anything)
are replaced with `[redacted]` as each record is made.

Installed as the process's log record factory, so it covers every logger and handler: our own, werkzeug's
request log, and gunicorn's access and error logs (same process as the app: the worker).
"""
from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"((?:access_token|ticket)=)[^&\s\"'#]+", re.IGNORECASE)
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    """`text` with the value of every `access_token=` and `ticket=` parameter redacted."""
    return SECRET_PARAMS.sub(REDACTED, text)


def _redacting(factory):
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it later, as usual
            return record
        if "=" in message:
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, ()
        return record
    make_record.redacts_secrets = True
    return make_record


def install() -> None:
    """Redact every log record this process makes from now on (installing twice is a no-op)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts_secrets", False):
        logging.setLogRecordFactory(_redacting(factory))
