"""Domain errors with stable codes, and the one JSON error body every 4xx/5xx uses."""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from core import error_codes

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client can act on: HTTP status, stable snake_case code, message, details."""

    status = 400
    code = "bad_request"
    message = "Bad request."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        error_codes.check_class(cls.code, cls.status)  # a subclass with an unregistered code fails at import

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.headers = headers or {}
        error_codes.check(self.code, self.status)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationError(ApiError):
    status, code, message = 400, "validation_error", "The request is not valid."


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "Authentication required."


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "You are not allowed to do this."


class NotFound(ApiError):
    status, code, message = 404, "not_found", "Not found."


class Conflict(ApiError):
    status, code, message = 409, "conflict", "The request conflicts with the current state."


class PayloadTooLarge(ApiError):
    status, code, message = 413, "payload_too_large", "The request body is too large."


class UnsupportedMediaType(ApiError):
    status, code, message = 415, "unsupported_media_type", "This media type is not accepted."


class ServiceUnavailable(ApiError):
    status, code, message = 503, "service_unavailable", "The service is temporarily unavailable."


# RFC 6750: a 401 names the scheme the client should use.
_WWW_AUTHENTICATE = 'Bearer realm="paipai"'
_RETRY_AFTER_SECONDS = "5"


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None) -> tuple[Response, int, dict]:
    """The one error body: {"error": {"code", "message", "details"}}; `code` is one of core/error_codes.py."""
    error_codes.check(code, status)
    body = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", _WWW_AUTHENTICATE)
    return body, status, headers


def http_exception_response(exc: HTTPException):
    """Turn a werkzeug/webargs HTTPException into our error body."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if isinstance(getattr(exc, "exc", None), (json.JSONDecodeError, UnicodeDecodeError)):
        return error_response(400, "invalid_json", "The request body is not valid JSON.")
    if messages is not None and status in (400, 422):
        # webargs nests errors by location ({"json": {...}}); clients want the fields.
        fields: dict = {}
        for value in messages.values() if isinstance(messages, dict) else [messages]:
            fields.update(value if isinstance(value, dict) else {"_schema": value})
        return error_response(400, "validation_error", "The request is not valid.",
                              {"fields": fields})
    code = error_codes.http_code(status)
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    message = data.get("message") or exc.description or exc.name
    return error_response(status, code, message, {}, headers)


def _database_unreachable(exc: Exception) -> bool:
    """A lost or refused database connection (not a bad query): worth a retry, so 503."""
    if isinstance(exc, sa_exc.TimeoutError):  # connection pool exhausted
        return True
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    if exc.connection_invalidated:
        return True
    # psycopg reports connection failures without a SQLSTATE, or with class 08 / 57P0x;
    # sqlite3 errors carry no `sqlstate` at all and stay 500s.
    sqlstate = getattr(exc.orig, "sqlstate", "not-a-driver-error")
    return sqlstate is None or sqlstate.startswith(("08", "57P0"))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, lambda e: error_response(
        e.status, e.code, e.message, e.details, e.headers))
    app.register_error_handler(HTTPException, http_exception_response)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The body never carries the exception text: it may hold SQL or user data.
        if _database_unreachable(exc):
            log.error("database unreachable: %s", type(exc).__name__, exc_info=True)
            return error_response(503, "service_unavailable",
                                  "The service is temporarily unavailable; try again shortly.",
                                  headers={"Retry-After": _RETRY_AFTER_SECONDS})
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
