"""`db.read()`: a connection for one read outside any unit of work, in autocommit — no transaction is left
open by it (on PostgreSQL no BEGIN/ROLLBACK round trips), and the pool's next unit of work is a transaction again."""
from __future__ import annotations

from sqlalchemy import text

from core.db import db


def _in_transaction(conn) -> bool:
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        return driver.in_transaction
    return driver.info.transaction_status != 0  # psycopg: 0 is IDLE


def test_a_read_runs_outside_a_transaction_and_leaves_the_pool_transactional(clean_app):
    with clean_app.app_context():
        with db.read() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert not _in_transaction(conn)
        with db.core_transaction() as conn:
            conn.execute(text("SELECT 1"))
            assert _in_transaction(conn)
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert _in_transaction(conn)
