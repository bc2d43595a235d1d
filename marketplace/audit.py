"""The audit log: every admin action and every read of a private conversation, written in the action's transaction."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marketplace.models import AuditEntry


def record_audit(session: Session, *, actor_id: int | None, action: str, target_type: str,
                 target_id: int | None, details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit entry to `session`; it commits (or rolls back) with the action it records."""
    entry = AuditEntry(actor_id=actor_id, action=action, target_type=target_type,
                       target_id=target_id, details=details or {})
    session.add(entry)
    return entry
