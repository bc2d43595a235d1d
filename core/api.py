"""The flask-smorest Api and Blueprint, set up for our error shape and 400 on bad input."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser

from core.errors import http_exception_response


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable snake_case code"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)


class ErrorSchema(ma.Schema):
    """Every 4xx/5xx body: {"error": {"code", "message", "details"}}."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_exception_response(error)


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = Parser()


api = Api(spec_kwargs={
    "info": {"description": "PaiPai (拍拍二手) marketplace and chat API. Contract: API.md."},
})


def init_api(app) -> None:
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
