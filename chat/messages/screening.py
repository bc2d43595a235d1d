"""The send path's content check, one call before the transaction: keyword rules and off-platform contacts.

Every user-visible string of a message is screened, with the same verdicts: the text fields of its
type (`txt` text, `file` name, `location` address), every string of a `custom` body (its `event` and
each string inside `data`, at any depth) and every string inside `ext`. Keys and media URLs are
structure, not text, and are left alone. `block` rules refuse the message (403 `content_blocked`,
`details.field` naming where, nothing stored), `mask` rules rewrite the matches with `*`. Phone
numbers and WeChat ids (in any of those strings) are only detected: the message goes through and
the group gets a `system` notice against trading off the platform (see `batch.post_off_platform_notice`).
The compiled rules come from the process's cache: no database query per message.

The notice is an ordinary `system` message in the group: messages have no per-recipient
visibility, and a second, hidden channel just for it would have to be synced and stored apart.
Its text is a general warning, so the sender seeing it too does no harm and tells them the
platform noticed. One per group per NOTICE_EVERY: a chat where the parties swap numbers in
several messages gets one warning, not one per line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from chat.tables import messages_t
from core.db import utcnow
from core.errors import Forbidden
from marketplace.moderation.keywords import current_matcher
from marketplace.moderation.rules import fold

#: the body fields of each type that carry user-written text
TEXT_FIELDS = {"txt": ("text",), "file": ("name",), "location": ("address",)}

OFF_PLATFORM_NOTICE = ("平台提示:聊天中出现了手机号或微信号。请在平台内沟通和交易,"
                       "不要私下转账或到平台外交易,谨防诈骗。")
OFF_PLATFORM_EXT = {"notice": "off_platform"}
#: at most one notice per group in this window: a chat that swaps numbers gets warned, not spammed
NOTICE_EVERY = timedelta(minutes=10)
NOTICE_LOOKBACK = 50

_SEP = r"[\s\-.·_—–]{0,2}"
# Mainland mobiles: 1[3-9] and nine more digits, separators allowed, +86/86 optional; not part of a
# longer number. Full-width digits are folded before matching.
PHONE = re.compile(rf"(?<![0-9])(?:\+?86{_SEP})?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])")
# "微信/vx/wx/v信…" (optionally 号, a colon or 是) then an id: a letter and 5–19 letters, digits, _ or -.
WECHAT = re.compile(r"(?:微信|威信|薇信|维信|v信|(?<![a-z])(?:vx|wx|weixin|wechat))号?\s*[:是为]?\s*"
                    r"[a-z][a-z0-9_-]{5,19}", re.IGNORECASE)


class ContentBlocked(Forbidden):
    code, message = "content_blocked", "This message contains content that is not allowed."


@dataclass(frozen=True)
class Screened:
    """The body and ext to store (masked where a rule says so) and whether they share contact details."""

    body: dict[str, Any]
    ext: dict[str, Any] | None
    off_platform: bool


#: every way WECHAT starts has 信, an x or a w (no other character matches x or w case-insensitively):
#: text without any is spared the pattern, which has no literal prefix to search for
_WECHAT_HINTS = ("信", "x", "X", "w", "W")


def has_contact(text: str) -> bool:
    """True when the text shows a mainland mobile number or a WeChat id."""
    folded = fold(text)
    if PHONE.search(folded) is not None:
        return True
    return any(hint in folded for hint in _WECHAT_HINTS) and WECHAT.search(folded) is not None


Path = tuple[str | int, ...]


def _strings(value: Any, path: Path) -> list[tuple[Path, str]]:
    """Every string value inside `value` (dict values and list items at any depth) with its path.

    Iterative: a 4 KB object can nest deeper than Python's recursion limit."""
    found: list[tuple[Path, str]] = []
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            found.append((where, item))
        elif isinstance(item, dict):
            stack.extend(((*where, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*where, i), child) for i, child in reversed(list(enumerate(item))))
    return found


def _visible_strings(*, type: str, body: dict[str, Any], ext: dict[str, Any] | None) -> list[tuple[Path, str]]:
    if type == "custom":
        texts = _strings(body, ("body",))
    else:
        texts = [(("body", name), body[name]) for name in TEXT_FIELDS.get(type, ()) if isinstance(body.get(name), str)]
    if ext:
        texts += _strings(ext, ("ext",))
    return texts


def _replaced(message: dict[str, Any], path: Path, new: str) -> dict[str, Any]:
    """A copy of `message` with the string at `path` replaced: the containers on the way are copied,
    everything else shared (iterative, as `_strings` is)."""
    top = dict(message)
    node: Any = top
    for key in path[:-1]:
        node[key] = dict(node[key]) if isinstance(node[key], dict) else list(node[key])
        node = node[key]
    node[path[-1]] = new
    return top


def screen_message(*, type: str, body: dict[str, Any], ext: dict[str, Any] | None = None) -> Screened:
    """Apply the keyword rules to every user-visible string of a validated client message (body and
    ext); 403 `content_blocked` on a `block` rule, `*` over each match of a `mask` rule."""
    texts = _visible_strings(type=type, body=body, ext=ext)
    if not texts:
        return Screened(body=body, ext=ext, off_platform=False)
    matcher = current_matcher()
    for path, text in texts:
        if matcher.blocks(text):
            raise ContentBlocked(details={"field": ".".join(map(str, path))})
    message: dict[str, Any] = {"body": body, "ext": ext}
    for path, text in texts:
        masked = matcher.masked(text)
        if masked != text:
            message = _replaced(message, path, masked)
    return Screened(body=message["body"], ext=message["ext"],
                    off_platform=any(has_contact(text) for _, text in texts))


def notice_is_recent(s: Session | Connection, *, group_id: int) -> bool:
    """True when the group got the off-platform notice within NOTICE_EVERY (call under its row lock).

    Only the group's latest NOTICE_LOOKBACK messages are looked at (one bounded index range): a
    chat that said more than that since its last notice may get another one.
    """
    since = utcnow() - NOTICE_EVERY
    recent = s.execute(select(messages_t.c.sender_id, messages_t.c.ext, messages_t.c.created_at)
                       .where(messages_t.c.group_id == group_id)
                       .order_by(messages_t.c.seq.desc()).limit(NOTICE_LOOKBACK)).all()
    return any(row.sender_id is None and row.ext == OFF_PLATFORM_EXT and row.created_at > since for row in recent)
