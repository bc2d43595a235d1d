"""Bearer-token authentication decorators; the token resolver is plugged in by marketplace."""
from __future__ import annotations

from copy import deepcopy
from functools import wraps
from typing import Any, Callable

from flask import Flask, current_app, g, request
from flask.sessions import SessionInterface

from core.errors import Forbidden, Unauthorized

# marketplace registers a callable(token: str) -> user | None at app creation.
RESOLVER_KEY = "auth_token_resolver"


class NoCookieSessions(SessionInterface):
    """Flask's cookie session switched off: callers authenticate with a bearer token and no cookie is read or
    set (Flask would otherwise build a signing serializer on every request to look for one)."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None  # Flask then uses its null session, which refuses writes

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


def set_token_resolver(app: Flask, resolver: Callable[[str], Any]) -> None:
    app.extensions[RESOLVER_KEY] = resolver


def bearer_token() -> str | None:
    """The token from `Authorization: Bearer ...`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def resolve_token(token: str | None):
    if not token:
        return None
    return current_app.extensions[RESOLVER_KEY](token)


def current_user():
    """The authenticated user of this request, or None."""
    if "current_user" not in g:
        g.current_user = resolve_token(bearer_token())
    return g.current_user


def _document(wrapper: Callable, *, optional: bool) -> None:
    # Same mechanism as flask-smorest's Blueprint.doc: extra OpenAPI per view.
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))  # type: ignore[attr-defined]
    manual = wrapper._apidoc.setdefault("manual_doc", {})  # type: ignore[attr-defined]
    manual["security"] = [{"bearerAuth": []}, {}] if optional else [{"bearerAuth": []}]
    if not optional:
        manual.setdefault("responses", {})["401"] = {"$ref": "#/components/responses/DEFAULT_ERROR"}


def auth_required(func: Callable) -> Callable:
    """Reject the request with 401 unless it carries a valid token."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            raise Unauthorized("A valid bearer token is required.")
        return func(*args, **kwargs)
    _document(wrapper, optional=False)
    return wrapper


def admin_required(func: Callable) -> Callable:
    """Reject with 401 without a token and 403 unless the user is an admin."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None:
            raise Unauthorized("A valid bearer token is required.")
        if user.role != "admin":
            raise Forbidden("Administrators only.")
        return func(*args, **kwargs)
    _document(wrapper, optional=False)
    return wrapper


def auth_optional(func: Callable) -> Callable:
    """Resolve the token when given (an invalid one is still 401), allow anonymous."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        if bearer_token() is not None and current_user() is None:
            raise Unauthorized("The bearer token is invalid or expired.")
        return func(*args, **kwargs)
    _document(wrapper, optional=True)
    return wrapper
