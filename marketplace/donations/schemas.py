"""Input and output schemas of donation claims."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from core.pagination import PageArgsSchema
from marketplace.donations.state import CLAIM_STATUSES
from marketplace.users.schemas import UserSummarySchema

MESSAGE_MAX = 500


class ClaimCreateSchema(ma.Schema):
    message = fields.String(load_default="", validate=validate.Length(max=MESSAGE_MAX),
                            metadata={"description": "a note to the giver (≤ 500), stored verbatim"})


class ClaimListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(CLAIM_STATUSES))


class ClaimSchema(ma.Schema):
    id = fields.Integer(required=True)
    listing_id = fields.Integer(required=True)
    claimant = fields.Nested(UserSummarySchema, required=True)
    message = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": " | ".join(CLAIM_STATUSES)})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ClaimedListingSchema(ma.Schema):
    """The listing a claim is about, as shown in the caller's own claim list."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    city = fields.String(required=True)
    cover_url = fields.String(required=True, allow_none=True, dump_only=True,
                              metadata={"description": "the first image, or null"})
    seller = fields.Nested(UserSummarySchema, required=True)


class MyClaimSchema(ClaimSchema):
    listing = fields.Nested(ClaimedListingSchema, required=True)
