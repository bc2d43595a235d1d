"""What can be reported: a resolver per target type says whether the reporter can see the target, and whose it is.

Marketplace resolves users and listings itself; chat registers "message" at app set-up
(marketplace never imports chat).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.errors import NotFound
from marketplace.listings.services import can_see
from marketplace.models import Listing, User

TARGET_TYPES = ("user", "listing", "message")
SUMMARY_CHARS = 200


@dataclass(frozen=True)
class ReportTarget:
    """A target the reporter can see: the user behind it, a short summary kept as evidence, and context
    an admin needs to look further (e.g. the message's group)."""

    owner_id: int | None
    summary: str
    context: dict[str, Any] = field(default_factory=dict)


#: resolver(session, target_id=..., reporter=...) -> ReportTarget, or None when it does not exist
#: or the reporter may not see it
Resolver = Callable[..., ReportTarget | None]
_resolvers: dict[str, Resolver] = {}


def register_report_target(target_type: str, resolver: Resolver) -> None:
    """Make `target_type` reportable through `resolver` (registering again replaces it)."""
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown report target type {target_type!r}")
    _resolvers[target_type] = resolver


def resolve_target(s: Session, *, target_type: str, target_id: int, reporter: User) -> ReportTarget:
    """The target as the reporter sees it; 404 when it does not exist or is not visible to them."""
    resolver = _resolvers.get(target_type)
    target = resolver(s, target_id=target_id, reporter=reporter) if resolver else None
    if target is None:
        raise NotFound(f"No such {target_type}.")
    return target


def _user(s: Session, *, target_id: int, reporter: User) -> ReportTarget | None:
    user = s.get(User, target_id)
    return None if user is None else ReportTarget(owner_id=user.id, summary=f"{user.nickname} (@{user.username})")


def _listing(s: Session, *, target_id: int, reporter: User) -> ReportTarget | None:
    listing = s.get(Listing, target_id)
    if listing is None or not can_see(listing, reporter):
        return None
    return ReportTarget(owner_id=listing.seller_id, summary=listing.title[:SUMMARY_CHARS],
                        context={"status": listing.status})


register_report_target("user", _user)
register_report_target("listing", _listing)
