"""The reference relay: what a Flask team would use instead of PaiPai's chat — Flask-SocketIO with a
Redis message queue, rooms of two, nothing persisted.

Served as Flask-SocketIO's deployment docs describe for gunicorn with gevent workers (WebSocket
through simple-websocket, which the gevent driver picks when gevent-websocket is absent):

    REDIS_URL=redis://127.0.0.1:6379/0 gunicorn -k gevent -w 1 'bench.reference.app:create_app()'

The docs limit gunicorn to one worker because long-polling needs sticky sessions; the benchmark's
clients use the WebSocket transport only, so it also runs with one worker per core (`-w 2`), the
same process count as PaiPai, sharing rooms through the Redis queue.
"""
from __future__ import annotations

import os

from flask import Flask
from flask_socketio import SocketIO, emit, join_room

socketio = SocketIO()


@socketio.on("join")
def on_join(room: str) -> None:
    """Enter the room of one buyer–seller pair."""
    join_room(room)


@socketio.on("msg")
def on_msg(data: dict) -> None:
    """Relay a message to the other member of its room (not back to the sender)."""
    emit("msg", data, to=data["room"], include_self=False)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "reference relay"
    socketio.init_app(app, message_queue=os.environ.get("REDIS_URL"), async_mode="gevent",
                      channel=os.environ.get("SOCKETIO_CHANNEL", "flask-socketio"))
    return app
