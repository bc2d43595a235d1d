"""The app object behind Flask's `current_app` proxy, typed (for threads, signals and caches keyed by app)."""
from __future__ import annotations

from flask import Flask, current_app


def this_app() -> Flask:
    """The real app of the current context (the proxy itself must not outlive the context)."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy method, typed as Flask's
