"""HTTP routes of listings, search, favorites and reviews."""
from __future__ import annotations

from core.api import Blueprint
from core.auth import auth_optional, auth_required, current_user
from core.pagination import page_schema
from marketplace.listings import favorites, reviews, search, services, status
from marketplace.listings.schemas import (
    FavoriteListArgsSchema,
    FavoriteStateSchema,
    ListingCreateSchema,
    ListingEditSchema,
    ListingSchema,
    ListingSearchArgsSchema,
    ReviewCreateSchema,
    ReviewListArgsSchema,
    ReviewSchema,
    StatusChangeSchema,
)

bp = Blueprint("listings", __name__, description="Listings, search, favorites and reviews")


@bp.post("/listings")
@auth_required
@bp.arguments(ListingCreateSchema)
@bp.response(201, ListingSchema, description="The new listing: status `active`, or `pending_review` when its "
                                              "title or description trips a keyword rule")
def create_listing(data):
    """Publish a sale or donation listing: `active`, or `pending_review` if it trips a keyword rule.

    A listing whose title or description matches a keyword rule is created as `pending_review`:
    hidden from search until an admin approves it (`active`) or rejects it (`rejected`).
    """
    return services.create_listing(seller=current_user(), **data)


@bp.get("/listings")
@auth_optional
@bp.arguments(ListingSearchArgsSchema, location="query")
@bp.response(200, page_schema(ListingSchema))
def search_listings(args):
    """Search listings by keyword and filters (active ones by default)."""
    return search.search_listings(viewer=current_user(), **args)


@bp.get("/listings/<int:listing_id>")
@auth_optional
@bp.response(200, ListingSchema)
def get_listing(listing_id: int):
    """One listing; removed, pending and rejected ones only for their seller and admins."""
    return services.get_listing(listing_id=listing_id, viewer=current_user())


@bp.patch("/listings/<int:listing_id>")
@auth_required
@bp.arguments(ListingEditSchema)
@bp.response(200, ListingSchema, description="The listing; `pending_review` again when the edit trips a "
                                              "keyword rule")
def update_listing(data, listing_id: int):
    """Edit your own listing (a rejected one goes back to review).

    An edit whose title or description matches a keyword rule also puts the listing back in
    `pending_review`.
    """
    return services.update_listing(actor=current_user(), listing_id=listing_id, changes=data)


@bp.post("/listings/<int:listing_id>/status")
@auth_required
@bp.arguments(StatusChangeSchema)
@bp.response(200, ListingSchema)
def change_status(data, listing_id: int):
    """Move your own listing to another status (reserve, reactivate, sell, give, withdraw)."""
    return status.change_listing_status(actor=current_user(), listing_id=listing_id, **data)


@bp.put("/listings/<int:listing_id>/favorite")
@auth_required
@bp.response(200, FavoriteStateSchema)
def favorite(listing_id: int):
    """Add a listing to your want-list (想要); idempotent."""
    return favorites.favorite_listing(actor=current_user(), listing_id=listing_id)


@bp.delete("/listings/<int:listing_id>/favorite")
@auth_required
@bp.response(200, FavoriteStateSchema)
def unfavorite(listing_id: int):
    """Remove a listing from your want-list; idempotent."""
    return favorites.unfavorite_listing(actor=current_user(), listing_id=listing_id)


@bp.get("/me/favorites")
@auth_required
@bp.arguments(FavoriteListArgsSchema, location="query")
@bp.response(200, page_schema(ListingSchema))
def list_favorites(args):
    """Your want-list, most recently added first."""
    return favorites.list_favorites(actor=current_user(), **args)


@bp.post("/listings/<int:listing_id>/reviews")
@auth_required
@bp.arguments(ReviewCreateSchema)
@bp.response(201, ReviewSchema)
def create_review(data, listing_id: int):
    """Review the other side of a sold or given listing (once per side)."""
    return reviews.create_review(actor=current_user(), listing_id=listing_id, **data)


@bp.get("/users/<int:user_id>/reviews")
@auth_required
@bp.arguments(ReviewListArgsSchema, location="query")
@bp.response(200, page_schema(ReviewSchema))
def list_reviews(args, user_id: int):
    """Reviews a user received, newest first."""
    return reviews.list_reviews(user_id=user_id, **args)
