"""Keyword rule changes reach every process: the marketplace's signal becomes one broker message,
and each process's subscription to it clears that process's compiled rules.

The broker is at-most-once, so a lost connection clears the rules as well (they are read again on
next use), and until the subscription is live nothing is cached (a change could slip by unseen).
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from chat.broker import get_broker
from core.current import this_app
from marketplace.moderation.keywords import invalidate_rules, rule_cache
from marketplace.signals import keyword_rules_changed

CHANNEL = "moderation:keyword-rules"
CHANGED = "changed"


def publish_rules_changed(_sender: Any, **_kw: Any) -> None:
    """Signal receiver (after commit): tell every process, this one included, to drop its rules."""
    get_broker(this_app()).publish(CHANNEL, CHANGED)


def init_app(app: Flask) -> None:
    """Subscribe the app's broker to rule changes and relay the marketplace's signal to it."""
    broker = get_broker(app)
    subscription = broker.subscribe(CHANNEL, lambda _payload: invalidate_rules(app))
    broker.on_reconnect(lambda: invalidate_rules(app))
    rule_cache(app).live = lambda: subscription.ready.is_set() and not subscription.closed
    keyword_rules_changed.connect(publish_rules_changed)
