"""Serve the app for `npm test` run alone (make test runs the Node tests from pytest's live server instead).

A temporary SQLite database (or, with TEST_DATABASE_URL, a private PostgreSQL schema) built from the models,
the testing config, a free port; prints the URL as the first line of output, then serves until SIGTERM."""
from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server

from core.db import Base, db
from tests.support.apps import make_app
from tests.support.databases import free_port, pg_schema


def main() -> None:
    logging.disable(logging.INFO)  # the request log and dropped-socket notes would bury the test output
    tmp = Path(tempfile.mkdtemp(prefix="paipai-sdk-"))
    with ExitStack() as stack:
        if os.environ.get("TEST_DATABASE_URL"):  # a private PostgreSQL schema, dropped on exit
            url = stack.enter_context(pg_schema(prefix="sdk"))
        else:
            url = f"sqlite:///{tmp / 'sdk.sqlite3'}"
        app = make_app(tmp, url)
        with app.app_context():
            Base.metadata.create_all(db.engine)
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        # The test process holds our stdin: when it ends, however it ends (a forced exit skips its
        # handlers), the pipe reads EOF and this server stops too.
        threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
        print(f"http://127.0.0.1:{port}", flush=True)
        server.serve_forever(poll_interval=0.05)
        app.extensions["chat_hub"].close_all(1001, "server going away")
        app.extensions["db"].engine.dispose()


if __name__ == "__main__":
    main()
