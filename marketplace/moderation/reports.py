"""User reports: file one against a user, listing or message; admins work the queue and resolve them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationError
from core.pagination import Page, paginate
from marketplace.audit import record_audit
from marketplace.models import Report, User
from marketplace.moderation.listings import apply_takedown
from marketplace.moderation.targets import resolve_target
from marketplace.moderation.users import apply_ban
from marketplace.signals import emit_listing_status_changed, emit_user_banned

REPORT_STATUSES = ("open", "resolved")
ACTIONS = ("dismiss", "takedown", "ban")


def _open_report_id(*, reporter_id: int, target_type: str, target_id: int) -> int | None:
    return db.session.scalar(select(Report.id).where(
        Report.reporter_id == reporter_id, Report.target_type == target_type,
        Report.target_id == target_id, Report.status == "open"))


def _already_reported(report_id: int | None) -> Conflict:
    return Conflict("You already have an open report on this.", code="report_exists",
                    details={"report_id": report_id})


def create_report(*, reporter: User, target_type: str, target_id: int, reason: str) -> Report:
    """Report something the reporter can see (404 otherwise); one open report per reporter and target
    (409 `report_exists`); never yourself or your own listing or message (403 `cannot_report_self`)."""
    key = {"reporter_id": reporter.id, "target_type": target_type, "target_id": target_id}
    try:
        with db.transaction() as s:
            target = resolve_target(s, target_type=target_type, target_id=target_id, reporter=reporter)
            if target.owner_id == reporter.id:
                raise Forbidden("You cannot report yourself or your own content.", code="cannot_report_self")
            existing = _open_report_id(**key)  # type: ignore[arg-type]
            if existing is not None:
                raise _already_reported(existing)
            report = Report(**key, target_owner_id=target.owner_id, target_summary=target.summary,
                            target_context=target.context, reason=reason, status="open")
            s.add(report)
    except IntegrityError:
        # A concurrent report by the same reporter on the same target won the partial unique index.
        raise _already_reported(_open_report_id(**key)) from None  # type: ignore[arg-type]
    return report


def list_reports(*, page: int, page_size: int, status: str | None = None, target_type: str | None = None,
                 target_id: int | None = None) -> Page:
    """Reports matching the filters: the open queue oldest first, anything else newest first."""
    stmt = select(Report)
    for column, value in ((Report.status, status), (Report.target_type, target_type),
                          (Report.target_id, target_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    order = ((Report.created_at.asc(), Report.id.asc()) if status == "open"
             else (Report.created_at.desc(), Report.id.desc()))
    return paginate(db.session, stmt.order_by(*order), page=page, page_size=page_size)


def _check_action(report: Report, action: str) -> None:
    problem = None
    if action == "takedown" and report.target_type != "listing":
        problem = "Only a reported listing can be taken down."
    elif action == "ban" and report.target_owner_id is None:
        problem = "Nobody is behind this target to ban (a system message, or a deleted user)."
    if problem:
        raise ValidationError(problem, details={"fields": {"action": [problem]}})


def resolve_report(*, admin: User, report_id: int, action: str, note: str = "",
                   until: datetime | None = None) -> Report:
    """Close an open report (409 `report_resolved` otherwise) with `action`.

    dismiss: only this report. takedown (listing targets): the listing is removed. ban: the target
    user, the listing's seller or the message's sender is banned (until `until`). Acting on a target
    resolves every open report on it alike. The reason given is the note, else the report's reason.
    """
    with db.transaction() as s:
        head = s.execute(select(Report.target_type, Report.target_id).where(Report.id == report_id)).one_or_none()
        if head is None:
            raise NotFound("No such report.")
        # Every open report on the target, locked in id order: concurrent resolutions queue up, never deadlock.
        locked = s.scalars(select(Report).where(Report.target_type == head.target_type,
                                                Report.target_id == head.target_id,
                                                or_(Report.status == "open", Report.id == report_id))
                           .order_by(Report.id).with_for_update(of=Report)
                           .execution_options(populate_existing=True)).all()
        report = next(r for r in locked if r.id == report_id)
        if report.status != "open":
            raise Conflict("This report is already resolved.", code="report_resolved",
                           details={"resolution": report.resolution})
        _check_action(report, action)
        closing = [report] if action == "dismiss" else [r for r in locked if r.status == "open"]
        reason, trail = note or report.reason, {"report_id": report.id}
        taken_down = banned = None
        if action == "takedown":
            taken_down = apply_takedown(s, admin=admin, listing_id=report.target_id, reason=reason, details=trail)
        elif action == "ban":
            banned = apply_ban(s, admin=admin, user_id=report.target_owner_id, reason=reason, until=until,  # type: ignore[arg-type]
                               details=trail)
        now = utcnow()
        for r in closing:
            r.status, r.resolution, r.resolution_note, r.resolved_by_id, r.resolved_at = (
                "resolved", action, note, admin.id, now)
        record_audit(s, actor_id=admin.id, action="report.resolve", target_type="report", target_id=report.id,
                     details={"action": action, "note": note, "target_type": report.target_type,
                              "target_id": report.target_id, "resolved_report_ids": [r.id for r in closing]})
    if taken_down is not None:
        listing, old_status = taken_down
        emit_listing_status_changed(listing_id=listing.id, old_status=old_status, new_status="removed",
                                    actor_id=admin.id)
    if banned is not None:
        emit_user_banned(user_id=banned.id)
    return report
