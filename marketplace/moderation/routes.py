"""HTTP routes of reports (any user) and admin moderation: users, listings, reports, the audit log."""
from __future__ import annotations

from core.api import Blueprint
from core.auth import admin_required, auth_required, current_user
from core.pagination import page_schema
from marketplace.moderation import audit_log, listings, reports, users
from marketplace.moderation.schemas import (
    AdminListingSchema,
    AdminReportSchema,
    AdminUserSchema,
    AuditEntrySchema,
    AuditListArgsSchema,
    BanSchema,
    ListingListArgsSchema,
    ReasonSchema,
    ReportCreateSchema,
    ReportListArgsSchema,
    ReportSchema,
    ResolveSchema,
    UserListArgsSchema,
)

bp = Blueprint("moderation", __name__, description="Reports, and admin moderation (administrators only)")


@bp.post("/reports")
@auth_required
@bp.arguments(ReportCreateSchema)
@bp.response(201, ReportSchema)
@bp.alt_response(403, response="FORBIDDEN", description="cannot_report_self")
@bp.alt_response(404, response="NOT_FOUND", description="the target does not exist or you cannot see it")
@bp.alt_response(409, response="CONFLICT",
                 description="report_exists: you have an open report on it (details.report_id)")
def create_report(data):
    """Report a user, a listing or a message you can see (one open report per target).

    404 when the target does not exist or is not visible to you (a message: only in a group you are in);
    403 `cannot_report_self` for yourself, your listing or your message; 409 `report_exists` while your
    earlier report on the same target is open (its id in `details.report_id`; nothing new is created).
    """
    return reports.create_report(reporter=current_user(), **data)


@bp.get("/admin/users")
@admin_required
@bp.arguments(UserListArgsSchema, location="query")
@bp.response(200, page_schema(AdminUserSchema))
def list_users(args):
    """Find users by username or nickname, and by ban status."""
    return users.list_users(**args)


@bp.post("/admin/users/<int:user_id>/ban")
@admin_required
@bp.arguments(BanSchema)
@bp.response(200, AdminUserSchema)
def ban_user(data, user_id: int):
    """Ban a user: their tokens are revoked and their sockets closed at once (403 for admins and yourself)."""
    return users.ban_user(admin=current_user(), user_id=user_id, **data)


@bp.post("/admin/users/<int:user_id>/unban")
@admin_required
@bp.response(200, AdminUserSchema)
def unban_user(user_id: int):
    """Lift a user's ban (409 not_banned when there is none)."""
    return users.unban_user(admin=current_user(), user_id=user_id)


@bp.get("/admin/listings")
@admin_required
@bp.arguments(ListingListArgsSchema, location="query")
@bp.response(200, page_schema(AdminListingSchema))
def list_listings(args):
    """Listings in any status: the review queue, reported listings, a seller's listings."""
    return listings.list_listings(**args)


@bp.post("/admin/listings/<int:listing_id>/approve")
@admin_required
@bp.response(200, AdminListingSchema)
def approve_listing(listing_id: int):
    """Approve a listing waiting for review: it becomes active."""
    return listings.approve_listing(admin=current_user(), listing_id=listing_id)


@bp.post("/admin/listings/<int:listing_id>/reject")
@admin_required
@bp.arguments(ReasonSchema)
@bp.response(200, AdminListingSchema)
def reject_listing(data, listing_id: int):
    """Reject a listing waiting for review; the seller sees the reason and may edit and resubmit."""
    return listings.reject_listing(admin=current_user(), listing_id=listing_id, **data)


@bp.post("/admin/listings/<int:listing_id>/takedown")
@admin_required
@bp.arguments(ReasonSchema)
@bp.response(200, AdminListingSchema)
def takedown_listing(data, listing_id: int):
    """Take a listing down (removed): its chats get a system notice and become read-only."""
    return listings.takedown_listing(admin=current_user(), listing_id=listing_id, **data)


@bp.post("/admin/listings/<int:listing_id>/restore")
@admin_required
@bp.response(200, AdminListingSchema)
def restore_listing(listing_id: int):
    """Undo a takedown: the listing returns to the status it was taken down from."""
    return listings.restore_listing(admin=current_user(), listing_id=listing_id)


@bp.get("/admin/reports")
@admin_required
@bp.arguments(ReportListArgsSchema, location="query")
@bp.response(200, page_schema(AdminReportSchema))
def list_reports(args):
    """The report queue, filtered by status and target."""
    return reports.list_reports(**args)


@bp.post("/admin/reports/<int:report_id>/resolve")
@admin_required
@bp.arguments(ResolveSchema)
@bp.response(200, AdminReportSchema)
@bp.alt_response(409, response="CONFLICT", description="report_resolved, or the takedown's invalid_transition")
def resolve_report(data, report_id: int):
    """Resolve an open report: dismiss it, take the listing down, or ban the user behind it."""
    return reports.resolve_report(admin=current_user(), report_id=report_id, **data)


@bp.get("/admin/audit")
@admin_required
@bp.arguments(AuditListArgsSchema, location="query")
@bp.response(200, page_schema(AuditEntrySchema))
def list_audit(args):
    """The audit log, newest first, filtered by actor, action or target."""
    return audit_log.list_audit(**args)
