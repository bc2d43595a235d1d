"""Signals the marketplace emits after commit; chat (and others) subscribe. Marketplace never imports chat."""
from __future__ import annotations

from blinker import Namespace

from core.current import this_app

_signals = Namespace()

#: sent after a listing's status change is committed, with
#: listing_id, old_status, new_status, actor_id (None for the system)
listing_status_changed = _signals.signal("listing-status-changed")

#: sent after a token is revoked, with user_id and token_id (live sockets on it must close)
token_revoked = _signals.signal("token-revoked")

#: sent after a user is banned, with user_id (all their sessions end)
user_banned = _signals.signal("user-banned")

#: sent after the keyword rule set was replaced (every process must drop its compiled copy)
keyword_rules_changed = _signals.signal("keyword-rules-changed")


def emit_listing_status_changed(*, listing_id: int, old_status: str, new_status: str,
                                actor_id: int | None) -> None:
    """Announce a committed status change (call only after the transaction commits)."""
    if old_status != new_status:
        listing_status_changed.send(this_app(), listing_id=listing_id, old_status=old_status,
                                    new_status=new_status, actor_id=actor_id)


def emit_token_revoked(*, user_id: int, token_id: int) -> None:
    token_revoked.send(this_app(), user_id=user_id, token_id=token_id)


def emit_user_banned(*, user_id: int) -> None:
    user_banned.send(this_app(), user_id=user_id)


def emit_keyword_rules_changed() -> None:
    keyword_rules_changed.send(this_app())
