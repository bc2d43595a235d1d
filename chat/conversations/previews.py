"""The one-line preview of a conversation's last message, per type, as the list shows it."""
from __future__ import annotations

import re
from typing import Any

PREVIEW_CHARS = 50
#: media and other non-text types: a bracketed label, as WeChat-style lists show them
TYPE_LABELS = {"img": "[图片]", "audio": "[语音]", "video": "[视频]", "location": "[位置]",
               "file": "[文件]", "custom": "[自定义消息]"}
OFFER_LABELS = {"pending": "[报价]", "accepted": "[报价已接受]", "declined": "[报价已拒绝]",
                "withdrawn": "[报价已撤回]"}
RECALLED_OWN = "你撤回了一条消息"
RECALLED_PEER = "对方撤回了一条消息"
RECALLED_IN_ROOM = "一条消息已被撤回"
UNKNOWN = "[消息]"
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def format_price(cents: int) -> str:
    """Fen as yuan with two decimals: 12000 → ¥120.00."""
    sign = "-" if cents < 0 else ""
    yuan, fen = divmod(abs(cents), 100)
    return f"{sign}¥{yuan}.{fen:02d}"


def short_text(text: Any) -> str:
    """Text on one line (line breaks become spaces), cut to its first PREVIEW_CHARS characters."""
    if not isinstance(text, str):
        return ""
    return _LINE_BREAKS.sub(" ", text).strip()[:PREVIEW_CHARS]


def preview(*, type: str, body: dict | None, recalled: bool, sender_id: int | None, viewer_id: int,
            group_kind: str) -> str:
    """What the list shows for a message: a recall notice, the text, or a label for its type."""
    if recalled:
        if sender_id is not None and sender_id == viewer_id:
            return RECALLED_OWN
        return RECALLED_IN_ROOM if group_kind in ("room", "group") else RECALLED_PEER
    body = body if isinstance(body, dict) else {}
    if type in ("txt", "system"):
        return short_text(body.get("text"))
    if type == "offer":
        label = OFFER_LABELS.get(body.get("status"), OFFER_LABELS["pending"])  # type: ignore[arg-type]
        price = body.get("price_cents")
        return f"{label} {format_price(price)}" if isinstance(price, int) else label
    return TYPE_LABELS.get(type, UNKNOWN)
