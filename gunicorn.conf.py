"""gunicorn settings read from the repository root (gunicorn loads ./gunicorn.conf.py by default).

Run: `gunicorn -k gevent -w N 'app:create_app()'`. Only shutdown hooks live here; the command
line keeps choosing workers, binding and timeouts.
"""
from __future__ import annotations


def post_worker_init(worker) -> None:
    """When the worker is told to stop (SIGTERM), close its WebSockets with 1001."""
    from chat.ws.shutdown import close_sockets_when_worker_stops
    close_sockets_when_worker_stops(worker)


def worker_int(worker) -> None:
    """SIGINT / SIGQUIT: close the worker's WebSockets with 1001 before its quick exit."""
    from chat.ws.shutdown import close_worker_sockets
    close_worker_sockets(worker)
