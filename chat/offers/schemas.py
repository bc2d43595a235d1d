"""Input and output schemas of offers."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from chat.offers.state import OFFER_STATUSES
from core.pagination import PageArgsSchema
from marketplace.listings.schemas import MAX_PRICE_CENTS
from marketplace.users.schemas import UserSummarySchema


class OfferCreateSchema(ma.Schema):
    price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_PRICE_CENTS),
                                 metadata={"description": "the offered price in fen, a JSON integer > 0"})


class OfferListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES))


class OfferSchema(ma.Schema):
    id = fields.Integer(required=True)
    group_id = fields.Integer(required=True)
    listing_id = fields.Integer(required=True)
    buyer = fields.Nested(UserSummarySchema, required=True)
    price_cents = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": " | ".join(OFFER_STATUSES)})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
