"""Reviews after a deal: the seller and the buyer (or recipient) each rate the other once."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.db import db
from core.errors import Conflict, Forbidden
from core.pagination import Page, paginate
from marketplace.listings.services import load_visible
from marketplace.models import Review, User
from marketplace.users.blocks import blocked_between
from marketplace.users.services import get_user

#: a listing can be reviewed once the deal is done
DONE = frozenset({"sold", "given"})


def _already_reviewed() -> Conflict:
    return Conflict("You have already reviewed this deal.", code="already_reviewed")


def create_review(*, actor: User, listing_id: int, rating: int, text: str = "") -> Review:
    """Rate the other side of a sold or given listing; each side reviews once."""
    try:
        with db.transaction() as s:
            listing = load_visible(s, listing_id=listing_id, viewer=actor, lock=True)
            if listing.status not in DONE:
                raise Conflict("Only a sold or given listing can be reviewed.", code="deal_not_done",
                               details={"status": listing.status})
            if actor.id == listing.seller_id:
                if listing.buyer_id is None:
                    raise Conflict("No buyer was recorded for this listing, so there is no one to review.",
                                   code="no_counterparty")
                reviewee_id = listing.buyer_id
            elif actor.id == listing.buyer_id:
                reviewee_id = listing.seller_id
            else:
                raise Forbidden("Only the seller and the buyer of this listing can review it.",
                                code="not_a_party")
            if blocked_between(s, actor.id, reviewee_id):
                raise Forbidden("You cannot review a user you are in a block with.", code="blocked")
            if s.scalar(select(Review.id).where(Review.listing_id == listing.id,
                                                Review.reviewer_id == actor.id)) is not None:
                raise _already_reviewed()
            review = Review(listing_id=listing.id, reviewer_id=actor.id, reviewee_id=reviewee_id,
                            rating=rating, text=text)
            s.add(review)
            s.flush()
            # Kept on the user so profiles read rating_avg/rating_count without aggregating.
            s.execute(update(User).where(User.id == reviewee_id).values(
                rating_count=User.rating_count + 1, rating_total=User.rating_total + rating))
    except IntegrityError:
        # A concurrent review by the same party won the unique (listing_id, reviewer_id) race.
        raise _already_reviewed() from None
    return review


def list_reviews(*, user_id: int, page: int, page_size: int) -> Page:
    """Reviews a user received, newest first (404 for an unknown user)."""
    get_user(user_id=user_id)
    stmt = (select(Review).where(Review.reviewee_id == user_id)
            .order_by(Review.created_at.desc(), Review.id.desc()))
    return paginate(db.session, stmt, page=page, page_size=page_size)
