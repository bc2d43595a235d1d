"""On PostgreSQL the app's prepared statements keep one generic plan: a read by an id array (`= ANY(:ids)`)
is not planned again on every call (left to choose, PostgreSQL did: bench/pg_plans.py)."""
from __future__ import annotations

import pytest

from chat.messages.batch_sql import for_connection
from core.db import db


def test_an_id_array_read_is_planned_once_per_connection(clean_app):
    if clean_app.extensions["db"].engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    with clean_app.app_context(), db.engine.connect() as conn:
        q = for_connection(conn)
        for ids in ([1], [1, 2], [3], [4, 5, 6], [7], [8], [9], [10], [11], [12]):
            q.read(conn, "lock_groups", ids)
        plans = conn.exec_driver_sql("SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                                     " WHERE statement LIKE 'SELECT chat_groups.id%%'").all()
    # psycopg prepares the statement on its sixth call on a connection (a pooled one may have run it before
    # this test); every call since ran the one generic plan, none a custom one
    [(generic, custom)] = plans
    assert custom == 0 and generic >= 5, plans
