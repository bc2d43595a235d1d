"""Typed SQLAlchemy model of the keyword rules (the whole set is replaced at once by PUT /admin/keywords)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from marketplace.models import BigId


class KeywordRule(Base):
    """One rule: a word or an RE2 regular expression, what to do on a match, and where it applies."""

    __tablename__ = "keyword_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the rule's place in the set as the admin gave it (the set is read back in this order)
    position: Mapped[int] = mapped_column(Integer)
    pattern: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(8))
    applies_to: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("kind IN ('word', 'regex')", name="kind"),
        CheckConstraint("action IN ('block', 'mask', 'review')", name="action"),
    )
