"""HTTP routes of the keyword rules (admins only)."""
from __future__ import annotations

from core.api import Blueprint
from core.auth import admin_required, current_user
from marketplace.moderation import keywords
from marketplace.moderation.keyword_schemas import KeywordRuleSetSchema, KeywordRulesInputSchema

bp = Blueprint("admin_keywords", __name__, description="Admin: keyword rules for listings and messages")


@bp.get("/admin/keywords")
@admin_required
@bp.response(200, KeywordRuleSetSchema)
def get_keywords():
    """The keyword rule set, in order."""
    return keywords.list_rules()


@bp.put("/admin/keywords")
@admin_required
@bp.arguments(KeywordRulesInputSchema)
@bp.response(200, KeywordRuleSetSchema)
def put_keywords(data):
    """Replace the whole keyword rule set at once; every process applies it without a restart.

    Each rule is a `word` (literal substring) or an RE2 `regex` (linear-time matching; no
    backreferences or lookarounds), with an `action`: `block` refuses a matching message with
    403 `content_blocked`, `mask` delivers it with each match replaced by `*` per character,
    `review` applies to listings only. A listing whose title or description matches any rule
    that applies to listings is created, or after an edit put back, as `pending_review`. A bad
    rule is a 400 `validation_error` naming it in `details.rule` and nothing changes.
    """
    return keywords.replace_rules(admin=current_user(), rules=data["rules"])
