"""Input and output schemas of admin moderation, reports and the audit log."""
from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import fields, validate

from core.input import ROW_ID
from core.pagination import PageArgsSchema
from marketplace.listings.schemas import NOT_BLANK, ListingSchema, Stripped
from marketplace.listings.state import STATUSES
from marketplace.moderation.reports import ACTIONS, REPORT_STATUSES
from marketplace.moderation.targets import TARGET_TYPES
from marketplace.moderation.users import USER_STATUSES
from marketplace.users.schemas import PublicUserSchema, UserSummarySchema

REASON_MAX = 500


def _reason(**kw) -> fields.Field:
    metadata = {"pattern": NOT_BLANK, **kw.pop("metadata", {})}
    return Stripped(validate=validate.Length(min=1, max=REASON_MAX), metadata=metadata, **kw)


def _until() -> fields.Field:
    return fields.AwareDateTime(default_timezone=UTC, allow_none=True, load_default=None, metadata={
        "description": "ISO 8601, in the future (UTC when no offset is given); null or omitted: until lifted"})


class UserListArgsSchema(PageArgsSchema):
    q = Stripped(validate=validate.Length(min=1, max=32),
                 metadata={"description": "substring of username or nickname", "pattern": NOT_BLANK})
    status = fields.String(validate=validate.OneOf(USER_STATUSES), metadata={"description": "banned right now, or not"})


class AdminUserSchema(PublicUserSchema):
    """A user as admins see them: role and ban included, never password hashes or tokens."""

    role = fields.String(required=True, metadata={"description": "user or admin"})
    status = fields.Function(lambda user: "banned" if user.is_banned() else "active", required=True,
                             metadata={"description": "banned right now (a timed ban that ran out is active)"})
    banned_at = fields.DateTime(required=True, allow_none=True)
    banned_until = fields.DateTime(required=True, allow_none=True, metadata={"description": "null: until lifted"})
    ban_reason = fields.String(required=True, allow_none=True)


class BanSchema(ma.Schema):
    reason = _reason(required=True)
    until = _until()


class ListingListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "pending_review is the review queue, longest waiting first; others newest first"})
    reported = fields.Boolean(metadata={"description": "true: only listings with open reports; false: only without"})
    seller_id = fields.Integer(validate=ROW_ID)


class AdminListingSchema(ListingSchema):
    removed_from = fields.String(required=True, allow_none=True, metadata={
        "description": "while removed: the status the takedown found it in (restore goes back there)"})


class ReasonSchema(ma.Schema):
    reason = _reason(required=True, metadata={"description": "shown to the seller as review_note"})


class ReportCreateSchema(ma.Schema):
    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.Integer(required=True, strict=True, validate=ROW_ID)
    reason = _reason(required=True)


class ReportSchema(ma.Schema):
    """A report as its reporter sees it."""

    id = fields.Integer(required=True)
    target_type = fields.String(required=True, metadata={"description": " | ".join(TARGET_TYPES)})
    target_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": " | ".join(REPORT_STATUSES)})
    created_at = fields.DateTime(required=True)


class AdminReportSchema(ReportSchema):
    reporter = fields.Nested(UserSummarySchema, required=True)
    target_owner_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the user behind the target: the user, the listing's seller, the message's sender"})
    target_summary = fields.String(required=True, metadata={"description": "what the reporter saw, kept as evidence"})
    target_context = fields.Dict(required=True, metadata={
        "description": "where to look further, e.g. {group_id, seq} of a message, {status} of a listing"})
    resolution = fields.String(required=True, allow_none=True, metadata={"description": " | ".join(ACTIONS)})
    resolution_note = fields.String(required=True, allow_none=True)
    resolved_by_id = fields.Integer(required=True, allow_none=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)


class ReportListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES), metadata={
        "description": "open is the queue, oldest first; otherwise newest first"})
    target_type = fields.String(validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.Integer(validate=ROW_ID)


class ResolveSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS), metadata={
        "description": "dismiss; takedown (listing targets); ban (the user behind the target)"})
    note = Stripped(load_default="", validate=validate.Length(max=REASON_MAX), metadata={
        "description": "kept on the report; the takedown or ban reason (the report's reason when empty)"})
    until = _until()


class AuditListArgsSchema(PageArgsSchema):
    actor_id = fields.Integer(validate=ROW_ID)
    action = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "e.g. user.ban"})
    target_type = fields.String(validate=validate.Length(min=1, max=32))
    target_id = fields.Integer(validate=ROW_ID)


class AuditEntrySchema(ma.Schema):
    id = fields.Integer(required=True)
    actor = fields.Nested(UserSummarySchema, required=True, allow_none=True, metadata={
        "description": "null when the account was deleted"})
    action = fields.String(required=True)
    target_type = fields.String(required=True)
    target_id = fields.Integer(required=True, allow_none=True)
    details = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
