"""Keyword rules: read and replace the set (admins), and each app's compiled copy of it.

Every process keeps the compiled set in memory and reads the table again only after it was told
of a change: a replace clears the local copy after commit and emits `keyword_rules_changed`,
which chat relays through the broker to every process (chat/keyword_sync.py). Nothing is read
per message or per listing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select, text

from core.current import this_app
from core.db import db
from marketplace.audit import record_audit
from marketplace.models import User
from marketplace.moderation.models import KeywordRule
from marketplace.moderation.rules import Matcher, Rule, validate_rules
from marketplace.signals import emit_keyword_rules_changed

CACHE_KEY = "keyword_rules"


class RuleCache:
    """One app's compiled rule set; `invalidate` (any thread) makes the next `get` read the table again.

    A load that raced with an invalidation is used once but not kept. While `live()` is false (the
    invalidation channel is not subscribed yet) nothing is kept either: a change could be missed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._generation = 0
        self.live: Callable[[], bool] = lambda: True

    def get(self, load: Callable[[], Matcher]) -> Matcher:
        matcher = self._matcher
        if matcher is not None:
            return matcher
        generation = self._generation
        matcher = load()
        with self._lock:
            if generation == self._generation and self.live():
                self._matcher = matcher
        return matcher

    @property
    def cached(self) -> bool:
        """True while a compiled set is kept (the next `get` reads nothing)."""
        return self._matcher is not None

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._matcher = None


def rule_cache(app: Flask) -> RuleCache:
    """The app's rule cache, made on first use."""
    cache = app.extensions.get(CACHE_KEY)
    if cache is None:
        cache = app.extensions.setdefault(CACHE_KEY, RuleCache())
    return cache


def invalidate_rules(app: Flask) -> None:
    """Forget the app's compiled rules (called from the broker's thread: no app context needed)."""
    rule_cache(app).invalidate()


def current_matcher() -> Matcher:
    """The compiled keyword rules of the current app (the table is read only after a change)."""
    return rule_cache(this_app()).get(_load)


def _load() -> Matcher:
    return Matcher.build(_rule(row) for row in _rows())


def _rows() -> Iterable[KeywordRule]:
    return db.session.scalars(select(KeywordRule).order_by(KeywordRule.position))


def _rule(row: KeywordRule) -> Rule:
    return Rule(pattern=row.pattern, kind=row.kind, action=row.action, applies_to=tuple(row.applies_to))


def list_rules() -> dict[str, Any]:
    """The whole rule set in the admin's order, with when it was set (null: no rules)."""
    rows = list(_rows())
    updated_at: datetime | None = max((row.created_at for row in rows), default=None)
    return {"rules": [_rule(row).as_dict() for row in rows], "count": len(rows), "updated_at": updated_at}


def replace_rules(*, admin: User, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the whole rule set atomically (400 naming the first bad rule, nothing changed); audited."""
    checked = validate_rules(rules)
    with db.transaction() as s:
        if s.get_bind().dialect.name == "postgresql":
            # Two replaces at once must not interleave their deletes and inserts (SQLite's
            # BEGIN IMMEDIATE already serializes them).
            s.execute(text("LOCK TABLE keyword_rules IN SHARE ROW EXCLUSIVE MODE"))
        previous = s.scalar(select(func.count()).select_from(KeywordRule)) or 0
        s.execute(delete(KeywordRule))
        s.add_all(KeywordRule(position=i, pattern=r.pattern, kind=r.kind, action=r.action,
                              applies_to=list(r.applies_to), created_by=admin.id) for i, r in enumerate(checked))
        record_audit(s, actor_id=admin.id, action="keywords.replace", target_type="keyword_rules", target_id=None,
                     details={"count": len(checked), "previous_count": previous,
                              "rules": [r.as_dict() for r in checked]})
    invalidate_rules(this_app())
    emit_keyword_rules_changed()
    return list_rules()
