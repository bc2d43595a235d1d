"""gunicorn settings read from the repository root (gunicorn loads ./gunicorn.conf.py by default).

Run the README's command: `gunicorn -k gevent -w 4 -b 0.0.0.0:8000 'app:create_app()'`. Here:
the worker's connection limit (WS_MAX_SOCKETS sockets + HTTP_MAX_CONNECTIONS others), gevent's
greenlet-tree tracking off (memory per socket), start-up checks (open files, production without
PostgreSQL/Redis), metrics across workers, shutdown, the request limits and JSON errors for requests
gunicorn refuses itself.
"""
from __future__ import annotations

import gc
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from config.env import ConfigError, env_int, load_env_file  # noqa: E402
from core.server_limits import (  # noqa: E402
    LIMIT_REQUEST_FIELD_SIZE,
    LIMIT_REQUEST_FIELDS,
    LIMIT_REQUEST_LINE,
    install_gunicorn_json_errors,
)

load_env_file()
try:
    ws_max_sockets = env_int("WS_MAX_SOCKETS", 10_000, minimum=1)
    http_max_connections = env_int("HTTP_MAX_CONNECTIONS", 1_000, minimum=1)
except ConfigError as exc:
    raise SystemExit(f"Error: {exc}") from None
# gevent workers: the most connections one worker holds; the app refuses sockets past WS_MAX_SOCKETS
# (core/capacity.py), so plain requests and /healthz always find a free slot.
worker_connections = ws_max_sockets + http_max_connections

# The same limits the development server applies and the OpenAPI document states: every query
# parameter's documented maximum fits in one request line.
limit_request_line = LIMIT_REQUEST_LINE
limit_request_fields = LIMIT_REQUEST_FIELDS
limit_request_field_size = LIMIT_REQUEST_FIELD_SIZE

# A request gunicorn refuses before Flask sees it (414, 431, a malformed request line) is answered
# in the contract's JSON error shape too.
install_gunicorn_json_errors()

# gevent records, for every greenlet it spawns, the greenlet and stack that spawned it (for debugging
# tools): each socket's handler and every writer started for a burst of its frames; 3.4 KB per idle
# socket when sockets had three greenlets each (BENCHMARKS.md). Off unless set.
os.environ.setdefault("GEVENT_TRACK_GREENLET_TREE", "false")

# prometheus-client's multiprocess mode: every worker writes its metrics under this folder.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="paipai-metrics-")


def on_starting(server) -> None:
    """In the master, before any worker: the open-files limit, the production guards, fresh metrics."""
    from config import load_config
    from config.deploy import check_processes, files_needed, raise_open_files_limit
    soft, warning = raise_open_files_limit(files_needed(server.cfg.worker_connections))
    if warning:
        server.log.warning(warning)
    else:
        server.log.info("open files limit %d, worker connections %d", soft, server.cfg.worker_connections)
    try:
        check_processes(load_config(), server.cfg.workers)
    except ConfigError as exc:
        server.log.error("refusing to start: %s", exc)
        raise SystemExit(f"Error: {exc}") from None
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def post_worker_init(worker) -> None:
    """When the worker is told to stop (SIGTERM), close its WebSockets with 1001; the app, now loaded, is
    left out of the garbage collector's full passes."""
    from chat.ws.shutdown import close_sockets_when_worker_stops
    close_sockets_when_worker_stops(worker)
    # Everything made while loading (modules, the app, SQLAlchemy's tables and compiled statements) lives as
    # long as the worker: frozen, the collector's full passes skip it. `make run` at P=100 spent 1.5 s of
    # 66 s in the collector, 0.6 s frozen, and its p99 fell from 182 to 129 ms (BENCHMARKS.md).
    gc.freeze()


def worker_int(worker) -> None:
    """SIGINT / SIGQUIT: close the worker's WebSockets with 1001 before its quick exit."""
    from chat.ws.shutdown import close_worker_sockets
    close_worker_sockets(worker)


def child_exit(server, worker) -> None:
    """A worker is gone: its live gauges (open sockets) stop counting."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
