"""Input and output schemas of the keyword rules."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.moderation.rules import ACTIONS, KINDS, MAX_PATTERN, MAX_RULES, TARGETS


class KeywordRuleSchema(ma.Schema):
    pattern = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PATTERN), metadata={
        "description": "a word (matched literally, as a substring) or an RE2 regular expression; matching is "
                       "case-insensitive on the text with full-width ASCII folded to half-width"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": "word or regex"})
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS), metadata={
        "description": "block: a matching message is refused (403 content_blocked); mask: delivered with each "
                       "match replaced by one * per character; review: listings only. A listing matching any "
                       "rule that applies to listings goes to pending_review"})
    applies_to = fields.List(fields.String(validate=validate.OneOf(TARGETS)),
                             validate=validate.Length(min=1, max=len(TARGETS)), metadata={
                                 "description": "listing and/or message; default both (review: listing)"})


class KeywordRulesInputSchema(ma.Schema):
    rules = fields.List(fields.Nested(KeywordRuleSchema), required=True,
                        validate=validate.Length(max=MAX_RULES),
                        metadata={"description": f"the whole new set, at most {MAX_RULES} rules, in order"})


class KeywordRuleSetSchema(ma.Schema):
    rules = fields.List(fields.Nested(KeywordRuleSchema), required=True)
    count = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True, allow_none=True,
                                 metadata={"description": "when the set was last replaced; null when never"})
