"""Notifications for members who are offline when a message lands (NOTIFIER=wechat|webhook|log|off).

The send transaction queues a row per offline member and conversation (`queue.py`, nothing else on
the send path); a worker (`worker.py`: a thread started with the app, or `flask notify-worker`)
claims due rows, checks again that the member is still offline, has not read it, not muted the chat
(unless a message not read yet mentions them) and not blocked the sender, and hands it to the
configured channel (`channels.py`, `wechat.py`) with retries and backoff.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `notify-worker` command; start the worker thread when NOTIFIER is on and NOTIFY_WORKER set."""
    from chat.notify import worker

    app.cli.add_command(worker.notify_worker_command)
    if app.config.get("NOTIFIER", "off") != "off" and app.config.get("NOTIFY_WORKER"):
        worker.start(app)
