"""How many bytes a user may still upload today: `UPLOAD_DAILY_BYTES` over any rolling 24 hours."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import ApiError
from marketplace.models import Upload, User

WINDOW = timedelta(days=1)


class QuotaExceeded(ApiError):
    status, code, message = 429, "upload_quota_exceeded", "You have uploaded as much as allowed for today."

    def __init__(self, *, quota: int, used: int) -> None:
        super().__init__(details={"quota_bytes": quota, "used_bytes": used, "window_s": int(WINDOW.total_seconds())})


def daily_quota() -> int:
    """Bytes one user may upload per rolling 24 hours (0: no quota)."""
    return current_app.config.get("UPLOAD_DAILY_BYTES", 0)


def used_today(s: Session, owner_id: int) -> int:
    """Bytes `owner_id` uploaded in the last 24 hours."""
    # int(): PostgreSQL's SUM of a BIGINT is a NUMERIC (a Decimal here)
    return int(s.scalar(select(func.coalesce(func.sum(Upload.size), 0))
                        .where(Upload.owner_id == owner_id, Upload.created_at > utcnow() - WINDOW)) or 0)


def bytes_left(s: Session, owner_id: int) -> int | None:
    """What the user may still upload (None: no quota); 429 when nothing is left."""
    quota = daily_quota()
    if not quota:
        return None
    used = used_today(s, owner_id)
    if used >= quota:
        raise QuotaExceeded(quota=quota, used=used)
    return quota - used


def charge(s: Session, *, owner_id: int, size: int) -> None:
    """Inside the transaction that records an upload: lock the owner's row (parallel uploads of one
    user queue here) and refuse the upload if it takes the day's total past the quota."""
    quota = daily_quota()
    if not quota:
        return
    s.scalar(select(User.id).where(User.id == owner_id).with_for_update())
    used = used_today(s, owner_id)
    if used + size > quota:
        raise QuotaExceeded(quota=quota, used=used)
