"""gunicorn settings read from the repository root (gunicorn loads ./gunicorn.conf.py by default).

Run: `gunicorn -k gevent -w N 'app:create_app()'`. Shutdown hooks, the request limits and JSON
errors for refused requests live here; the command line keeps choosing workers, binding and timeouts.
"""
from __future__ import annotations

from core.server_limits import (LIMIT_REQUEST_FIELD_SIZE, LIMIT_REQUEST_FIELDS, LIMIT_REQUEST_LINE,
                                install_gunicorn_json_errors)

# The same limits the development server applies and the OpenAPI document states: every query
# parameter's documented maximum fits in one request line.
limit_request_line = LIMIT_REQUEST_LINE
limit_request_fields = LIMIT_REQUEST_FIELDS
limit_request_field_size = LIMIT_REQUEST_FIELD_SIZE

# A request gunicorn refuses before Flask sees it (414, 431, a malformed request line) is answered
# in the contract's JSON error shape too.
install_gunicorn_json_errors()


def post_worker_init(worker) -> None:
    """When the worker is told to stop (SIGTERM), close its WebSockets with 1001."""
    from chat.ws.shutdown import close_sockets_when_worker_stops
    close_sockets_when_worker_stops(worker)


def worker_int(worker) -> None:
    """SIGINT / SIGQUIT: close the worker's WebSockets with 1001 before its quick exit."""
    from chat.ws.shutdown import close_worker_sockets
    close_worker_sockets(worker)
