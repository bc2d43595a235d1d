"""Keyword rules as data and as a compiled matcher: validating a rule set, matching text against it.

Regular expressions run on RE2 (google-re2), not Python's backtracking `re`: RE2 matches in time
linear in the text whatever the pattern, so no admin-written pattern can stall a send or a
listing edit. A static ban on "nested quantifiers" would not be enough with `re` — `(a|a)*b`,
`\\d*\\d*\\d*x` and many other shapes still blow up — while RE2 removes the whole class of
problem; what it cannot do in linear time (backreferences, lookarounds) it refuses to compile,
and such a rule is a 400 naming it. Patterns are capped at 200 characters, sets at 500 rules,
and each pattern's compiled program at 1 MiB.

Matching is case-insensitive and runs on normalized text (marketplace/moderation/normalize.py):
format characters such as a zero-width space or a soft hyphen removed, NFKC (full-width `ＶＸ１３８`
is `VX138`), casefolded, and look-alikes folded to their TR39 prototypes (Cyrillic `х` is `x`). Rules
are normalized the same way (a regex only in its non-ASCII characters). A mask covers the original
characters a match came from.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import re2

from core.errors import ValidationError
from marketplace.moderation.normalize import normalize, normalize_mapped, regex_source

MAX_RULES = 500
MAX_PATTERN = 200
KINDS = ("word", "regex")
ACTIONS = ("block", "mask", "review")
TARGETS = ("listing", "message")
MASK_CHAR = "*"
RULE_MAX_MEM = 1 << 20
SET_MAX_MEM = 64 << 20
#: probes on which a pattern must not match an empty string (it would then match "everywhere")
_EMPTY_PROBES = ("", "a", "中", " ", "1")

_FOLD = str.maketrans({**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20})
_WIDE = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")  # what _FOLD changes


def fold(text: str) -> str:
    """Full-width ASCII forms (and the ideographic space) as half-width, one character for one."""
    if text.isascii() or _WIDE.search(text) is None:
        return text  # most text: spared translate's table lookup per non-ASCII character
    return text.translate(_FOLD)


def _options(max_mem: int) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = max_mem
    return options


@dataclass(frozen=True)
class Rule:
    """One keyword rule as stored and served."""

    pattern: str
    kind: str
    action: str
    applies_to: tuple[str, ...]

    @property
    def source(self) -> str:
        """The RE2 source of the rule (a word is matched literally); both normalized like the text."""
        return re.escape(normalize(self.pattern)) if self.kind == "word" else regex_source(self.pattern)

    def as_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "kind": self.kind, "action": self.action,
                "applies_to": list(self.applies_to)}


def default_targets(action: str) -> tuple[str, ...]:
    """Where a rule applies when the admin does not say: `review` only to listings (messages
    are not held for review), the others to both."""
    return ("listing",) if action == "review" else TARGETS


def _invalid(index: int, pattern: str, field: str, problem: str) -> ValidationError:
    return ValidationError(f"Rule {index}: {problem}",
                           details={"fields": {"rules": {str(index): {field: [problem]}}}, "rule": index,
                                    "pattern": pattern})


def validate_rules(rules: Iterable[dict[str, Any]]) -> list[Rule]:
    """Check every rule (fields already shaped by the schema) and the set; 400 naming the first bad rule."""
    checked: list[Rule] = []
    seen: set[tuple[str, str, str]] = set()
    for index, raw in enumerate(rules):
        pattern, kind, action = raw["pattern"], raw["kind"], raw["action"]
        wanted = raw.get("applies_to") or default_targets(action)
        targets = tuple(t for t in TARGETS if t in wanted)
        if not pattern.strip():
            raise _invalid(index, pattern, "pattern", "The pattern is blank.")
        if action == "review" and "message" in targets:
            raise _invalid(index, pattern, "applies_to",
                           "Messages are not held for review: a `review` rule applies to listings only.")
        rule = Rule(pattern=pattern, kind=kind, action=action, applies_to=targets)
        try:
            compiled = re2.compile(rule.source, _options(RULE_MAX_MEM))
        except re2.error as exc:
            raise _invalid(index, pattern, "pattern",
                           f"Not a regular expression RE2 accepts ({_reason(exc)}); backreferences and "
                           f"lookarounds are not supported.") from None
        if any(m is not None and m.end() == m.start() for m in map(compiled.search, _EMPTY_PROBES)):
            raise _invalid(index, pattern, "pattern", "The pattern matches empty text, so it would match everything.")
        key = (normalize(pattern), kind, action)
        if key in seen:
            raise _invalid(index, pattern, "pattern", "The same rule is given twice.")
        seen.add(key)
        checked.append(rule)
    Matcher.build(checked)  # the whole set must compile too (400 when too large together)
    return checked


def _reason(exc: re2.error) -> str:
    reason = exc.args[0] if exc.args else exc
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def _union(sources: list[str]) -> Any:
    if not sources:
        return None
    try:
        return re2.compile("|".join(f"(?:{s})" for s in sources), _options(SET_MAX_MEM))
    except re2.error as exc:
        raise ValidationError(f"The rule set is too large to compile together ({_reason(exc)}); "
                              f"use fewer or simpler rules.", details={"fields": {"rules": [_reason(exc)]}}) \
            from None


@dataclass(frozen=True)
class Matcher:
    """A rule set compiled into one RE2 program per use: listings, message blocks, message masks."""

    listing: Any = None
    block: Any = None
    mask: Any = None

    @classmethod
    def build(cls, rules: Iterable[Rule]) -> Matcher:
        rules = list(rules)
        return cls(listing=_union([r.source for r in rules if "listing" in r.applies_to]),
                   block=_union([r.source for r in rules if "message" in r.applies_to and r.action == "block"]),
                   mask=_union([r.source for r in rules if "message" in r.applies_to and r.action == "mask"]))

    def flags_listing(self, *texts: str) -> bool:
        """True when any rule for listings (whatever its action) matches one of the texts."""
        return self.listing is not None and any(self.listing.search(normalize(t)) for t in texts if t)

    def blocks(self, text: str) -> bool:
        """True when a `block` rule for messages matches the text."""
        return self.block is not None and bool(text) and self.block.search(normalize(text)) is not None

    def masked(self, text: str) -> str:
        """The text with each match of a `mask` rule replaced by one `*` per original character it covers
        (format characters inside a match included)."""
        if self.mask is None or not text or self.mask.search(normalize(text)) is None:
            return text
        normalized, origin = normalize_mapped(text)
        spans = [(origin[m.start()][0], origin[m.end() - 1][1])
                 for m in self.mask.finditer(normalized) if m.end() > m.start()]
        if not spans:
            return text
        out, last = [], 0
        for start, end in spans:
            start = max(start, last)  # two matches in one original cluster: mask it once
            out += [text[last:start], MASK_CHAR * (end - start)]
            last = end
        out.append(text[last:])
        return "".join(out)

