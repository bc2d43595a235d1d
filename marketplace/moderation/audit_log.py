"""Reading the audit log (entries are written by `marketplace.audit.record_audit`)."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.pagination import Page, paginate
from marketplace.models import AuditEntry


def list_audit(*, page: int, page_size: int, actor_id: int | None = None, action: str | None = None,
               target_type: str | None = None, target_id: int | None = None) -> Page:
    """Audit entries matching every filter given, newest first."""
    stmt = select(AuditEntry)
    for column, value in ((AuditEntry.actor_id, actor_id), (AuditEntry.action, action),
                          (AuditEntry.target_type, target_type), (AuditEntry.target_id, target_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    return paginate(db.session, stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()),
                    page=page, page_size=page_size)
