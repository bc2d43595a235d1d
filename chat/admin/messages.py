"""Admin services for messages: post a system or test message into any group, read any group's history.

Both are audit-logged in the transaction that does them; a history read is recorded even when it
returns nothing (the read itself is what the audit log is for).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat.groups.access import not_found
from chat.messages.bodies import TxtBody, validate_content, validate_ext
from chat.messages.send import post_message
from chat.messages.services import message_page
from chat.tables import groups_t
from core.db import db
from core.errors import ValidationError
from marketplace.audit import record_audit
from marketplace.models import User

_SYSTEM_BODY = TxtBody()


def _system_body(body: Any) -> dict[str, Any]:
    errors = _SYSTEM_BODY.validate(body) if isinstance(body, dict) else {"_schema": ["Must be a JSON object."]}
    if errors:
        raise ValidationError("The message is not valid.", details={"fields": {"body": errors}})
    return {"text": body["text"]}


def post_admin_message(*, admin: User, group_id: int, type: str, body: Any, ext: Any = None) -> dict[str, Any]:
    """Post into any group, read-only ones included: `system` as the system (no sender, body `{text}`),
    any client type as the admin, who need not be a member. Delivered live and through sync like any
    message; keyword rules do not apply to admins."""
    if type == "system":
        sender, body, ext = None, _system_body(body), validate_ext(ext)
    else:
        sender = admin
        type, body, ext = validate_content(type=type, body=body, ext=ext)
    with db.transaction() as s:
        result = post_message(s, group_id=group_id, sender=sender, type=type, body=body, ext=ext)
        record_audit(s, actor_id=admin.id, action="group.message_post", target_type="group", target_id=group_id,
                     details={"message_id": result.message["id"], "seq": result.message["seq"], "type": type})
    return result.message


def read_history(*, admin: User, group_id: int, before_seq: int | None = None, after_seq: int | None = None,
                 limit: int = 50) -> dict[str, Any]:
    """A history page of any group (as GET /groups/{id}/messages pages it); each read is audit-logged."""
    with db.transaction() as s:
        kind = s.scalar(select(groups_t.c.kind).where(groups_t.c.id == group_id))
        if kind is None:
            raise not_found()
        page = message_page(s, group_id=group_id, before_seq=before_seq, after_seq=after_seq, limit=limit)
        seqs = [m["seq"] for m in page["items"]]
        record_audit(s, actor_id=admin.id, action="group.history_read", target_type="group", target_id=group_id,
                     details={"kind": kind, "before_seq": before_seq,
                              "after_seq": after_seq, "limit": limit,
                              "seq_range": [seqs[0], seqs[-1]] if seqs else None})
    return page
