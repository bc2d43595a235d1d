"""The flask-smorest Api and Blueprint, set up for our error shape, 400 on bad input and a complete spec."""
from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any, Callable

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, current_app, request
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from core.current import this_app
from core.error_codes import ERROR_CODES, markdown_table
from core.errors import UnsupportedMediaType, ValidationError, http_exception_response
from core.input import loads_strict
from core.openapi import DOCUMENT_KEY, build_document

JSON_MIMETYPE = "application/json; charset=utf-8"
SPEC_KEY = "openapi_spec"
WRITE_METHODS = {"post", "put", "patch", "delete"}
#: webargs locations that read the request body
BODY_LOCATIONS = {"json", "form", "files", "json_or_form"}
CONFLICT_METHODS = {"post", "put", "patch"}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req) -> Any:
        # A body in another format is refused outright (415) rather than read as "no fields".
        if not is_json_request(req) and (req.content_length or req.headers.get("Transfer-Encoding")):
            raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).",
                                       details={"content_type": req.mimetype or None})
        if not is_json_request(req):
            return ma.missing
        return loads_strict(req.get_data(cache=True))

    def load_files(self, req, schema: ma.Schema) -> Any:
        # A multipart body is read whole: a text field the schema does not name is an unknown field,
        # refused like any other, not silently ignored next to the files.
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def load_json_or_form(self, req, schema: ma.Schema) -> Any:
        if is_json_request(req):
            return self.load_json(req, schema)
        return self.load_form(req, schema)


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(ERROR_CODES)), metadata={
        "description": "stable snake_case code; the table of every code is in the API description"})
    message = ma.fields.String(required=True, metadata={"description": "human readable"})
    details = ma.fields.Dict(required=True, metadata={
        "description": "machine readable specifics; validation errors name the fields in `fields`"})


class ErrorSchema(ma.Schema):
    """Every 4xx/5xx body: {"error": {"code", "message", "details"}}."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def _has(responses: dict, status: int) -> bool:
    return status in responses or str(status) in responses


class ErrorResponsesPlugin(BasePlugin):
    """Documents on each operation the error statuses it can answer with, all in the Error shape.

    Derived from what the operation is (path parameters, body, query, auth, method),
    so no route has to repeat them; a route adds others with `@bp.alt_response`.
    """

    def operation_helper(self, path: str | None = None, operations: dict | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for status in self.error_statuses(path or "", method, operation):
                if not _has(responses, status):
                    responses[str(status)] = HTTPStatus(status).name

    @staticmethod
    def error_statuses(path: str, method: str, operation: dict) -> list[int]:
        statuses = []
        has_path_params = "{" in path
        security = operation.get("security") or []
        if "requestBody" in operation:
            statuses += [400, 413, 415]
        elif method in WRITE_METHODS:  # takes no body: any field sent is an unknown one
            statuses += [400, 415]
        elif any(isinstance(p, dict) and p.get("in") == "query" for p in operation.get("parameters", [])):
            statuses.append(400)
        if any(isinstance(p, dict) and p.get("in") == "query" for p in operation.get("parameters", [])):
            statuses.append(414)  # a query past the server's request-line limit (core.server_limits)
        if security:
            statuses.append(401)
            if {} not in security and (has_path_params or method in WRITE_METHODS):
                statuses.append(403)
        if has_path_params:
            statuses.append(404)
            if method in CONFLICT_METHODS:  # a state change on an existing resource
                statuses.append(409)
        statuses.append(500)
        return statuses


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app: Flask, *, spec_kwargs: dict | None = None) -> None:
        spec_kwargs = {"extra_plugins": [ErrorResponsesPlugin()], **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)
        # One Api object serves every app built in this process (tests build several):
        # each app keeps and serves the spec built for it.
        app.extensions[SPEC_KEY] = self.spec

    def _openapi_json(self):
        """Serve this app's OpenAPI document (apispec's, refined by core.openapi's refiners)."""
        return current_app.json.response(openapi_document(this_app()))

    def handle_http_exception(self, error):
        return http_exception_response(error)


def _has_body() -> bool:
    return bool(request.content_length) or "Transfer-Encoding" in request.headers


def _body_required(view: Callable) -> Callable:
    """A request without a body is a 400, as the document's `requestBody.required` says (not an empty object)."""
    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not _has_body():
            raise ValidationError("This operation needs a JSON body.",
                                  details={"fields": {"_body": ["Missing request body."]}})
        return view(*args, **kwargs)
    return checked


def openapi_document(app: Flask) -> dict:
    """The OpenAPI document `app` serves: apispec's, refined by core.openapi's refiners (built once)."""
    return app.extensions.get(DOCUMENT_KEY) or build_document(app, app.extensions[SPEC_KEY].to_dict())


class NoBodySchema(ma.Schema):
    """The body of a write route that takes none: nothing, `{}`, and no unknown field."""


def takes_body(view_func: Callable) -> bool:
    """True when the view declares an argument read from the body (`@bp.arguments` json/form/files)."""
    parameters = getattr(view_func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in", "json") in BODY_LOCATIONS for p in parameters)


def refusing_bodies(view_func: Callable, parser: Parser) -> Callable:
    """`view_func`, first checking that the request body is empty or `{}`, as NoBodySchema loads it:
    a field is `400 validation_error` naming it (unknown fields are refused everywhere, not ignored),
    a body in another format 415, malformed JSON `400 invalid_json`; checked before anything else runs."""
    schema = NoBodySchema()

    @functools.wraps(view_func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        parser.parse(schema, request, location="json")
        return view_func(*args, **kwargs)
    return wrapper


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *, location: str = "json", required: bool = True, **kwargs: Any):
        """flask-smorest's `arguments`; a required JSON body is enforced, not only documented.

        A schema class is made an instance once, here: webargs would build one per request (marshmallow
        schemas hold no per-call state, so one serves every request)."""
        if isinstance(schema, type):
            schema = schema()
        decorator = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return decorator
        return lambda view: _body_required(decorator(view))

    def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: Callable | None = None,
                     provide_automatic_options: bool | None = None, **options: Any) -> None:
        """Register a route; a write route that declares no body argument refuses every field sent to it."""
        methods = {m.lower() for m in options.get("methods") or ()}
        if view_func is not None and methods & WRITE_METHODS and not takes_body(view_func):
            view_func = refusing_bodies(view_func, self.ARGUMENTS_PARSER)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)


WEBSOCKET_DESCRIPTION = (
    "\n\n## WebSocket `/ws`\nNot an OpenAPI operation. Authenticate with `Authorization: Bearer` (or "
    "`?access_token=`); the first frame is `hello` with the user's latest `cursor`. **Resuming:** pass the "
    "last cursor you saw when you connect, `/ws?cursor=<cursor>` (empty: from the beginning). Everything "
    "missed is replayed first, in batches of `message`/`ack` frames each ending in `synced` (`more: true`: "
    "ask for the next with `{\"op\":\"sync\",\"cursor\":...}`), then live frames; a bad cursor is an "
    "`error` frame (`invalid_cursor`) and the socket stays open. **Without a cursor** the socket is live "
    "as soon as the client sends its first frame (a `send` is acked at once); a first `sync` is replayed "
    "before anything live; a client that only listens is live after `WS_HELLO_GRACE_S` (2 s). A later "
    "`sync` sends each position the socket has not sent yet, once. **Badge:** "
    "`{\"op\":\"event\",\"type\":\"unread\",\"data\":{\"unread_total\":n}}` whenever the user's "
    "unread total (item and direct chats not muted; as in `GET /conversations`) changes.")

API_DESCRIPTION = ("PaiPai (拍拍二手) marketplace and chat API. Contract: API.md. "
                   "Every error is JSON: {\"error\": {\"code\", \"message\", \"details\"}} (WebSocket: "
                   "{\"op\": \"error\", \"error\": {...}}). "
                   "The WebSocket /ws is described in AsyncAPI 3 at /api/v1/asyncapi.json.")
ERRORS_DESCRIPTION = "\n\n## Error codes\nEvery `code` the API answers with (REST and WebSocket):\n\n"
api = Api(spec_kwargs={"info": {"description": API_DESCRIPTION + WEBSOCKET_DESCRIPTION + ERRORS_DESCRIPTION
                                               + markdown_table()}})


def init_api(app: Flask) -> None:
    """Set up JSON responses (UTF-8, charset declared) and the OpenAPI document for `app`."""
    app.json.mimetype = JSON_MIMETYPE  # type: ignore[attr-defined]
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
