#!/usr/bin/env bash
# Container entrypoint: wait until the database (and Redis, when REDIS_URL is set) answer, apply the
# migrations when MIGRATE_ON_START=1 (under the migration lock: several containers may start at once),
# then run the command (the image's CMD: the README's gunicorn command).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=.venv/bin/python
WAIT_TIMEOUT="${WAIT_TIMEOUT:-60}"

"$PYTHON" - "$WAIT_TIMEOUT" <<'PY'
"""Wait for the configured database and broker, at most argv[1] seconds."""
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from config import load_config

config = load_config()
deadline = time.monotonic() + float(sys.argv[1])
engine = create_engine(config.DATABASE_URL, poolclass=NullPool)


def database() -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def broker() -> None:
    if config.REDIS_URL:
        import redis
        redis.Redis.from_url(config.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()


for name, probe in (("database", database), ("redis", broker)):
    while True:
        try:
            probe()
            print(f"entrypoint: {name} answers", file=sys.stderr)
            break
        except Exception as exc:  # not up yet
            if time.monotonic() > deadline:
                sys.exit(f"entrypoint: {name} did not answer within {sys.argv[1]} s: {type(exc).__name__}")
            time.sleep(1)
PY

if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
  .venv/bin/flask --app app migrate
fi

exec "$@"
