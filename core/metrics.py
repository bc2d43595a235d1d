"""Prometheus metrics (prometheus-client; multiprocess mode under gunicorn) and the `/metrics` endpoint.

Off unless METRICS_TOKEN (a bearer token) or METRICS_ALLOW (addresses or CIDRs) is set; when both
are, either lets a scraper in. Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR so
every worker's figures add up in one scrape.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time

import psycopg
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import Engine

from config.env import ConfigError
from core.errors import Forbidden, NotFound

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("paipai_http_requests_total", "HTTP requests by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("paipai_http_request_duration_seconds", "HTTP request latency by route", ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SOCKETS_OPEN = Gauge("paipai_ws_sockets_open", "WebSockets open", multiprocess_mode="livesum")
SOCKETS_REFUSED = Counter("paipai_ws_sockets_refused_total", "WebSockets refused: the process held WS_MAX_SOCKETS")
SESSIONS = Counter("paipai_ws_sessions_total", "WebSocket sessions ended, by close code", ["close_code"])
FRAMES = Counter("paipai_ws_frames_total", "WebSocket frames by direction (in: from clients)", ["direction"])
SEND_QUEUE_DEPTH = Gauge("paipai_send_queue_depth", "WebSocket sends queued, not yet committed",
                         multiprocess_mode="livesum")
SEND_BATCH_SIZE = Histogram("paipai_send_batch_size", "Sends committed per batch",
                            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500))
COMMIT_LATENCY = Histogram("paipai_db_commit_seconds", "Database commit latency",
                           buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
BROKER_RECONNECTS = Counter("paipai_broker_reconnects_total", "Broker (Redis) subscriptions re-established")
RATE_LIMITED = Counter("paipai_rate_limited_total", "Requests and sends refused by a rate limit", ["limit"])


def registry() -> CollectorRegistry:
    """Every worker's metrics in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def _allowed() -> bool:
    token, allow = current_app.config.get("METRICS_TOKEN"), current_app.config.get("METRICS_ALLOW") or []
    if not token and not allow:
        raise NotFound()  # off: as if there were no such page
    if token:
        supplied = request.headers.get("Authorization", "")
        if supplied.startswith("Bearer ") and hmac.compare_digest(supplied[7:].encode(), token.encode()):
            return True
    if allow and request.remote_addr:
        try:
            address = ipaddress.ip_address(request.remote_addr)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in allow)
    return False


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; 404 when off, 403 for a scraper without the token or address."""
    if not _allowed():
        raise Forbidden("Metrics need the METRICS_TOKEN bearer token or an address in METRICS_ALLOW.")
    return Response(generate_latest(registry()), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                          "Cache-Control": "no-store"})


def time_commits(engine: Engine) -> None:
    """Observe every COMMIT's duration (the driver's commit: the round trip and the durable write).

    A unit of work whose COMMIT went with its last statements (`core.prepared.execute_in_turn`) is observed
    there; the driver's commit then has no transaction left to end and is not observed again."""
    dialect = engine.dialect
    if getattr(dialect, "_commits_timed", False):
        return
    untimed = dialect.do_commit

    def do_commit(dbapi_connection) -> None:
        driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)  # the pool's proxy, usually
        if isinstance(driver, psycopg.Connection) and driver.info.transaction_status == TransactionStatus.IDLE:
            return untimed(dbapi_connection)
        started = time.perf_counter()
        try:
            untimed(dbapi_connection)
        finally:
            COMMIT_LATENCY.observe(time.perf_counter() - started)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect._commits_timed = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    for net in app.config.get("METRICS_ALLOW") or []:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"METRICS_ALLOW has {net!r}, not an address or CIDR (e.g. 10.0.0.0/8)") from None
    app.register_blueprint(bp)
    time_commits(app.extensions["db"].engine)
