"""Request body caps: a tight one for JSON, the upload cap for everything else."""
from __future__ import annotations

from flask import Flask, request

from core.errors import PayloadTooLarge


def register_body_limits(app: Flask) -> None:
    @app.before_request
    def _cap_json_body() -> None:
        if request.mimetype == "application/json" or request.is_json:
            limit = app.config["JSON_MAX_BYTES"]
            length = request.content_length
            if length is not None and length > limit:
                raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.",
                                      details={"limit": limit})
