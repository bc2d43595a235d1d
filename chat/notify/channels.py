"""How a notification goes out: the log, a signed webhook, or WeChat (chat/notify/wechat.py).

A channel takes a `Note` and returns when it was delivered; it raises `Skip(outcome)` when there is
nothing to send to (no quota, no WeChat user), `RetryLater` for a failure worth retrying (timeouts,
busy answers) and `Undeliverable` for one that is not (a 4xx from the webhook, a bad template).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Note:
    """What a notification says: who wrote, about what, a preview, when, and how many since the last one."""

    user_id: int
    group_id: int
    message_id: int
    seq: int
    count: int
    sender_id: int
    sender_nickname: str
    listing_id: int | None
    listing_title: str | None
    preview: str
    sent_at: datetime

    @property
    def page(self) -> str:
        """The mini-program page that opens the conversation (WECHAT_NOTIFY_PAGE)."""
        return current_app.config["WECHAT_NOTIFY_PAGE"].format(group_id=self.group_id)


class Skip(Exception):
    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class RetryLater(Exception):
    pass


class Undeliverable(Exception):
    pass


def send_log(note: Note) -> None:
    """NOTIFIER=log: one line per notification (ids only: message text stays out of logs)."""
    log.info("notify: user %s, group %s, message %s (%d new)", note.user_id, note.group_id, note.message_id,
             note.count)


def webhook_body(note: Note) -> dict[str, Any]:
    return {"type": "chat.message", "user_id": note.user_id, "group_id": note.group_id,
            "message_id": note.message_id, "seq": note.seq, "count": note.count,
            "sender": {"id": note.sender_id, "nickname": note.sender_nickname},
            "listing": {"id": note.listing_id, "title": note.listing_title} if note.listing_id else None,
            "preview": note.preview, "sent_at": note.sent_at.isoformat(), "page": note.page}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send_webhook(note: Note) -> None:
    """NOTIFIER=webhook: POST the note as JSON to NOTIFY_WEBHOOK_URL, signed and timestamped.

    Headers: `X-PaiPai-Timestamp` (Unix seconds), `X-PaiPai-Signature` (see `sign`; receivers should
    refuse old timestamps), `X-PaiPai-Delivery` (the same for every attempt of one notification).
    Any 2xx delivers; 408, 429, 5xx and network errors are retried; other statuses are not.
    """
    cfg = current_app.config
    body = json.dumps(webhook_body(note), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(cfg["NOTIFY_WEBHOOK_URL"], data=body, method="POST", headers={
        "Content-Type": "application/json", "X-PaiPai-Timestamp": timestamp,
        "X-PaiPai-Signature": sign(cfg["NOTIFY_WEBHOOK_SECRET"] or "", timestamp, body),
        "X-PaiPai-Delivery": f"{note.user_id}:{note.group_id}:{note.message_id}"})
    try:
        with urllib.request.urlopen(request, timeout=cfg["NOTIFY_WEBHOOK_TIMEOUT_S"]) as response:
            response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (408, 429) or exc.code >= 500:
            raise RetryLater(f"webhook answered {exc.code}") from None
        raise Undeliverable(f"webhook answered {exc.code}") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as exc:
        raise RetryLater(f"webhook unreachable: {type(exc).__name__}") from None


def channel(name: str) -> Callable[[Note], None]:
    if name == "wechat":
        from chat.notify.wechat import send_wechat
        return send_wechat
    return {"webhook": send_webhook, "log": send_log}[name]
