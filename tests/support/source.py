"""Parsing our own source in tests that scan it (error codes, frames), safe beside running threads."""
from __future__ import annotations

import ast
from pathlib import Path

ATTEMPTS = 5


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, tried again when CPython 3.11.7's parser trips over its recursion counter, which
    other threads share ("AST constructor recursion depth mismatch", fixed in 3.11.8): earlier tests'
    servers may still be running threads in this process."""
    for attempt in range(ATTEMPTS):
        try:
            return ast.parse(source, filename)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def parse_file(path: Path) -> ast.Module:
    return parse(path.read_text(encoding="utf-8"), str(path))
