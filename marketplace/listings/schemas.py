"""Input and output schemas of listings, search, favorites and reviews."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from core.input import ROW_ID
from core.pagination import PageArgsSchema
from marketplace.listings.state import STATUSES
from marketplace.uploads.urls import UploadUrl
from marketplace.users.schemas import UserSummarySchema

KINDS = ("sale", "donation")
CONDITIONS = ("new", "like_new", "good", "fair")
SORTS = ("newest", "price_asc", "price_desc")
MAX_IMAGES = 9
#: 100 million yuan: far above any second-hand deal, far below BIGINT
MAX_PRICE_CENTS = 10_000_000_000


#: what a Stripped field of at least one character holds, as the document says it (ECMAScript regex)
NOT_BLANK = r"\S"
#: ... of at least two characters
TWO_NOT_BLANK = r"\S[\s\S]*\S"


class Stripped(fields.String):
    """A string with surrounding whitespace removed before its validators run."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _title(**kw: Any) -> fields.Field:
    return Stripped(validate=validate.Length(min=1, max=80), metadata={"pattern": NOT_BLANK}, **kw)


def _description(**kw: Any) -> fields.Field:
    return fields.String(validate=validate.Length(max=5000), **kw)


def _price(**kw: Any) -> fields.Field:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_PRICE_CENTS),
                          metadata={"description": "fen; > 0 for sale, 0 (or omitted) for donation"}, **kw)


def _short(**kw: Any) -> fields.Field:
    return Stripped(validate=validate.Length(min=1, max=32), metadata={"pattern": NOT_BLANK}, **kw)


def _condition(**kw: Any) -> fields.Field:
    return fields.String(validate=validate.OneOf(CONDITIONS), **kw)


def _images(**kw: Any) -> fields.Field:
    return fields.List(UploadUrl(kind="image"), validate=validate.Length(max=MAX_IMAGES),
                       metadata={"description": "URLs of images from POST /uploads, at most 9"}, **kw)


class ListingCreateSchema(ma.Schema):
    """A new listing (POST /listings); it starts out active."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = _title(required=True)
    description = _description(load_default="")
    price_cents = _price(load_default=0)
    category = _short(required=True)
    condition = _condition(required=True)
    images = _images(load_default=list)
    city = _short(required=True)


class ListingEditSchema(ma.Schema):
    """What a seller may change after creation (PATCH /listings/{id}); at least one field."""

    title = _title()
    description = _description()
    price_cents = _price()
    category = _short()
    condition = _condition()
    images = _images()
    city = _short()

    @ma.validates_schema
    def _not_empty(self, data: dict, **_kw: Any) -> None:
        if not data:
            raise ma.ValidationError("Give at least one field to change.")


class ListingSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "sale or donation"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    price_cents = fields.Integer(required=True)
    category = fields.String(required=True)
    condition = fields.String(required=True)
    images = fields.List(fields.String(), required=True)
    city = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": " | ".join(STATUSES)})
    seller = fields.Nested(UserSummarySchema, required=True)
    favorite_count = fields.Integer(required=True)
    buyer_id = fields.Integer(allow_none=True, required=True,
                              metadata={"description": "who it is reserved for, sold or given to"})
    review_note = fields.String(allow_none=True, required=True,
                                metadata={"description": "an admin's reason for a rejection or takedown"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ListingSearchArgsSchema(PageArgsSchema):
    q = Stripped(validate=validate.Length(min=2, max=50), metadata={
        "description": "substring of the title or description, 2–50 characters", "pattern": TWO_NOT_BLANK})
    kind = fields.String(validate=validate.OneOf(KINDS))
    category = _short()
    city = _short()
    seller_id = fields.Integer(validate=ROW_ID)
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES),
                           metadata={"description": "non-public statuses list only the caller's own listings"})
    min_price = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    max_price = fields.Integer(validate=validate.Range(min=0, max=MAX_PRICE_CENTS))
    sort = fields.String(load_default="newest", validate=validate.OneOf(SORTS),
                         metadata={"description": "ties are broken newest id first"})

    @ma.validates_schema
    def _price_range(self, data: dict, **_kw: Any) -> None:
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("min_price must not exceed max_price.", "min_price")


class StatusChangeSchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    buyer_id = fields.Integer(strict=True, validate=ROW_ID,
                              metadata={"description": "who it is reserved for / sold or given to"})


class FavoriteStateSchema(ma.Schema):
    listing_id = fields.Integer(required=True)
    favorited = fields.Boolean(required=True)
    favorite_count = fields.Integer(required=True)


class ReviewCreateSchema(ma.Schema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    text = fields.String(load_default="", validate=validate.Length(max=500))


class ReviewSchema(ma.Schema):
    id = fields.Integer(required=True)
    listing_id = fields.Integer(required=True)
    reviewer = fields.Nested(UserSummarySchema, required=True)
    reviewee_id = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"description": "the reviewer's side: seller or buyer"})
    rating = fields.Integer(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class FavoriteListArgsSchema(PageArgsSchema):
    pass


class ReviewListArgsSchema(PageArgsSchema):
    pass
