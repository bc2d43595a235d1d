"""What the marketplace's OpenAPI document says beyond its schemas: rules, upload media types, links, examples."""
from __future__ import annotations

import copy

from core.openapi import Link, Rule, add_links, add_rules, operation, set_example, set_path_parameter
from marketplace.listings.state import ADMIN_MOVES, SELLER_MOVES
from marketplace.uploads.media import ALLOWED, DESCRIPTION

BINARY = {"type": "string", "format": "binary"}
#: what GET /uploads/{name} serves: every type an upload is stored as
SERVED_TYPES = sorted({media.content_type for media in ALLOWED.values()} | {"image/heif"})
UPLOAD_NAME = {"type": "string", "pattern": r"^[0-9a-f]{32}\.[a-z0-9]{2,5}$",
               "description": "the `name` POST /uploads returned"}
UPLOAD_URL_RULE = ("must be the URL of an image uploaded to this service that exists (the `url` POST /uploads "
                   "returned)")


def _moves(table: dict[str, frozenset[str]]) -> str:
    return "; ".join(f"{start} -> {', '.join(sorted(ends))}" for start, ends in table.items())


RULES: dict[str, list[Rule]] = {
    "POST /listings": [
        Rule(400, "validation_error", "`price_cents` is above 0 for a `sale` and exactly 0 for a `donation`",
             ("price_cents",)),
        Rule(400, "validation_error", f"each of `images` {UPLOAD_URL_RULE}", ("images",)),
    ],
    "PATCH /listings/{listing_id}": [
        Rule(400, "validation_error", "at least one field; `price_cents` stays above 0 for a sale, 0 for a donation",
             ("_schema", "price_cents")),
        Rule(400, "validation_error", f"each of `images` {UPLOAD_URL_RULE}", ("images",)),
        Rule(403, "not_seller", "only the seller edits a listing"),
        Rule(409, "listing_not_editable", "a sold, given, withdrawn or removed listing can no longer be edited"),
    ],
    "POST /listings/{listing_id}/status": [
        Rule(409, "invalid_transition", f"the seller's moves: {_moves(SELLER_MOVES)}; a sale ends `sold`, "
                                        "a donation `given`"),
        Rule(400, "validation_error", "`buyer_id` only with `reserved`, `sold` or `given`; it names an "
                                      "existing user other than the seller", ("buyer_id",)),
        Rule(403, "not_seller", "only the seller moves a listing"),
    ],
    "GET /listings": [
        Rule(400, "validation_error", "`min_price` is at most `max_price` when both are given", ("min_price",)),
    ],
    "PATCH /me": [
        Rule(400, "validation_error", f"`avatar_url` {UPLOAD_URL_RULE} (or null)", ("avatar_url",)),
        Rule(400, "validation_error", "a body is required", ("_body",)),
    ],
    "PUT /me/blocks/{user_id}": [
        Rule(400, "validation_error", "`user_id` is not the caller (you cannot block yourself)", ("user_id",)),
    ],
    "POST /listings/{listing_id}/reviews": [
        Rule(409, "deal_not_done", "only a sold or given listing is reviewed"),
        Rule(409, "no_counterparty", "the listing has a recorded buyer"),
        Rule(409, "already_reviewed", "each side reviews a deal once"),
        Rule(403, "not_a_party", "only the seller and the buyer review"),
    ],
    "POST /listings/{listing_id}/claims": [
        Rule(409, "not_a_donation", "only a donation is claimed"),
        Rule(409, "listing_not_available", "the listing is active"),
        Rule(409, "claim_exists", "one open claim per listing and claimant"),
        Rule(409, "claim_limit", "at most MAX_OPEN_CLAIMS open claims per user"),
        Rule(403, "own_listing", "not your own listing"),
    ],
    "POST /uploads": [
        Rule(415, "unsupported_media_type", f"the file's own bytes are {DESCRIPTION}; its name and declared "
                                            "type are ignored"),
        Rule(400, "validation_error", "one part, `file`; no other form fields"),
    ],
    "POST /users": [
        Rule(409, "username_taken", "usernames are unique, compared without case"),
    ],
    "POST /admin/users/{user_id}/ban": [
        Rule(400, "validation_error", "`until`, when given, is in the future", ("until",)),
        Rule(403, "cannot_ban_self", "not yourself"),
        Rule(403, "cannot_ban_admin", "not an administrator"),
    ],
    "POST /admin/reports/{report_id}/resolve": [
        Rule(400, "validation_error", "`takedown` only for a reported listing; `ban` only when a user is "
                                      "behind the target; `until` in the future", ("action", "until")),
        Rule(409, "report_resolved", "an open report"),
    ],
    "PUT /admin/keywords": [
        Rule(400, "validation_error", "each pattern is not blank, compiles as RE2, never matches empty text, "
                                      "and appears once per kind and action; a `review` rule never applies "
                                      "to messages", ("rules",)),
    ],
    "POST /admin/listings/{listing_id}/approve": [
        Rule(409, "invalid_transition", f"an admin's moves: {_moves(ADMIN_MOVES)}"),
    ],
    "POST /admin/listings/{listing_id}/reject": [
        Rule(409, "invalid_transition", "only a listing pending review is rejected"),
    ],
    "POST /reports": [
        Rule(409, "report_exists", "one open report per reporter and target"),
        Rule(403, "cannot_report_self", "not yourself or your own content"),
    ],
}

LINKS: dict[str, list[Link]] = {
    "POST /users": [
        Link("GetUser", "GET /users/{user_id}", {"user_id": "$response.body#/id"}),
        Link("BlockUser", "PUT /me/blocks/{user_id}", {"user_id": "$response.body#/id"}),
        Link("UserReviews", "GET /users/{user_id}/reviews", {"user_id": "$response.body#/id"}),
    ],
    "POST /listings": [
        Link(name, target, {"listing_id": "$response.body#/id"}) for name, target in (
            ("GetListing", "GET /listings/{listing_id}"),
            ("EditListing", "PATCH /listings/{listing_id}"),
            ("ChangeStatus", "POST /listings/{listing_id}/status"),
            ("Favorite", "PUT /listings/{listing_id}/favorite"),
            ("Unfavorite", "DELETE /listings/{listing_id}/favorite"),
            ("Review", "POST /listings/{listing_id}/reviews"),
            ("Claim", "POST /listings/{listing_id}/claims"),
            ("ListClaims", "GET /listings/{listing_id}/claims"),
        )
    ],
    "PATCH /listings/{listing_id}": [
        Link("GetListing", "GET /listings/{listing_id}", {"listing_id": "$response.body#/id"}),
    ],
    "POST /listings/{listing_id}/status": [
        Link("GetListing", "GET /listings/{listing_id}", {"listing_id": "$response.body#/id"}),
    ],
    "POST /listings/{listing_id}/claims": [
        Link(name, target, {"claim_id": "$response.body#/id"}) for name, target in (
            ("AcceptClaim", "POST /claims/{claim_id}/accept"),
            ("DeclineClaim", "POST /claims/{claim_id}/decline"),
            ("CancelClaim", "POST /claims/{claim_id}/cancel"),
        )
    ],
    "POST /claims/{claim_id}/accept": [
        Link(name, target, {"claim_id": "$response.body#/id"}) for name, target in (
            ("CompleteClaim", "POST /claims/{claim_id}/complete"),
            ("NoShow", "POST /claims/{claim_id}/no_show"),
            ("CancelClaim", "POST /claims/{claim_id}/cancel"),
        )
    ],
    "POST /uploads": [
        Link("Download", "GET /uploads/{name}", {"name": "$response.body#/name"}),
    ],
}

LISTING_EXAMPLE = {
    "id": 42, "kind": "sale", "title": "九成新 iPhone 13 128G", "description": "自用一年,无划痕,送手机壳。",
    "price_cents": 250000, "category": "electronics", "condition": "like_new",
    "images": ["https://api.paipai.example/api/v1/uploads/0f55aba397144093b67aea79f0d3ea02.jpg"],
    "city": "上海", "status": "active",
    "seller": {"id": 7, "nickname": "卖家老李", "avatar_url": None},
    "favorite_count": 3, "buyer_id": None, "review_note": None,
    "created_at": "2026-11-28T09:15:02.114000+00:00", "updated_at": "2026-11-28T09:15:02.114000+00:00",
}


def _uploads(document: dict) -> None:
    set_path_parameter(document, "/uploads/{name}", "name", UPLOAD_NAME)
    download = operation(document, "GET /uploads/{name}")
    for status in ("200", "206"):
        download["responses"][status]["content"] = {media: {"schema": dict(BINARY)} for media in SERVED_TYPES}
    upload = operation(document, "POST /uploads")["requestBody"]["content"]["multipart/form-data"]
    upload["encoding"] = {"file": {"contentType": ", ".join(sorted(ALLOWED))}}


def _listing_kinds(document: dict) -> None:
    """POST /listings: a sale's price is above 0, a donation's is 0, said as one schema per kind."""
    schemas = document["components"]["schemas"]
    base = schemas["ListingCreate"]
    sale, donation = copy.deepcopy(base), copy.deepcopy(base)
    sale["properties"]["kind"] = {"type": "string", "enum": ["sale"]}
    sale["properties"]["price_cents"] = {**base["properties"]["price_cents"], "minimum": 1}
    sale["properties"]["price_cents"].pop("default", None)
    sale["required"] = sorted({*base["required"], "price_cents"})
    donation["properties"]["kind"] = {"type": "string", "enum": ["donation"]}
    donation["properties"]["price_cents"] = {"type": "integer", "enum": [0], "default": 0}
    schemas["ListingCreate"] = {"description": "A sale (price above 0) or a donation (free).",
                                "oneOf": [sale, donation]}


def refine(document: dict) -> None:
    """The marketplace's part of the document (registered with core.openapi.add_refiner)."""
    _uploads(document)
    _listing_kinds(document)
    add_rules(document, RULES)
    add_links(document, LINKS)
    for key in ("GET /listings/{listing_id}", "POST /listings"):
        status = 201 if key.startswith("POST") else 200
        set_example(document, key, status, LISTING_EXAMPLE)
