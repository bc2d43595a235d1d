"""Signals the marketplace emits after commit; chat (and others) subscribe. Marketplace never imports chat."""
from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()

#: sent after a listing's status change is committed, with
#: listing_id, old_status, new_status, actor_id (None for the system)
listing_status_changed = _signals.signal("listing-status-changed")


def emit_listing_status_changed(*, listing_id: int, old_status: str, new_status: str,
                                actor_id: int | None) -> None:
    """Announce a committed status change (call only after the transaction commits)."""
    if old_status != new_status:
        listing_status_changed.send(current_app._get_current_object(), listing_id=listing_id,
                                    old_status=old_status, new_status=new_status, actor_id=actor_id)
