"""Operational endpoints: /livez, /readyz, /healthz and the offline API docs page at /docs."""
from __future__ import annotations

import logging
from typing import Callable

from flask import Blueprint, Flask, current_app, jsonify, send_from_directory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from swagger_ui_bundle import swagger_ui_path

from core.db import db

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)
SWAGGER_DIR = swagger_ui_path  # the versioned directory holding swagger-ui-bundle.js and its CSS
PROBE_ENGINE_KEY = "health_probe_engine"
PROBE_TIMEOUT_SECONDS = 2

DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>PaiPai API 文档</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><p>WebSocket <code>/ws</code>: <a href="/api/v1/asyncapi.json">AsyncAPI 3 document</a>
(its frames reuse the schemas below).</p><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/docs-init.js"></script>
</body></html>"""

# validatorUrl: null — Swagger UI would otherwise send the spec to validator.swagger.io.
DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true, validatorUrl: null});"""


def _probe_engine() -> Engine:
    """The engine health probes use: PostgreSQL gets its own, with a connect timeout, so /healthz never hangs."""
    engine = current_app.extensions.get(PROBE_ENGINE_KEY)
    if engine is None:
        url = current_app.config["DATABASE_URL"]
        if url.startswith("sqlite"):
            engine = db.engine
        else:
            engine = create_engine(url, poolclass=NullPool,
                                   connect_args={"connect_timeout": PROBE_TIMEOUT_SECONDS})
        current_app.extensions[PROBE_ENGINE_KEY] = engine
    return engine


def _db_probe() -> None:
    with _probe_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        probe()
        return "ok"
    except Exception:  # a health probe reports, it never raises
        log.warning("health check %s failed", name, exc_info=True)
        return "down"


def _dependencies():
    broker = current_app.extensions.get("broker")
    checks = {"db": _check("db", _db_probe),
              "broker": _check("broker", broker.ping) if broker is not None else "ok"}
    healthy = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ok" if healthy else "degraded", **checks})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


@bp.get("/healthz")
def healthz():
    """Dependencies (kept for compatibility; the same answer as /readyz)."""
    return _dependencies()


@bp.get("/readyz")
def readyz():
    """Readiness: 200 when the database and broker answer, 503 otherwise (take the process out of rotation)."""
    return _dependencies()


@bp.get("/livez")
def livez():
    """Liveness: the process answers; touches no dependency, so a Redis blink restarts nothing."""
    return jsonify({"status": "ok"}), 200, {"Cache-Control": "no-store"}


@bp.get("/docs")
def docs():
    """Human API docs (Swagger UI served from our own files, no CDN)."""
    return DOCS_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/docs/static/docs-init.js")
def docs_init():
    """The script that points Swagger UI at our OpenAPI document."""
    return DOCS_INIT, 200, {"Content-Type": "application/javascript; charset=utf-8"}


@bp.get("/docs/static/<path:name>")
def docs_static(name: str):
    """Swagger UI's own files, from the installed swagger_ui_bundle package."""
    return send_from_directory(str(SWAGGER_DIR), name, max_age=3600)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
