"""What PostgreSQL itself spends on each statement of a REST send (`POST /api/v1/groups/{id}/messages`),
and whether its prepared statements keep a generic plan or are planned again on every call.

Server CPU is read from /proc for the backend that ran each statement (clock ticks: meaningful summed over
many sends, not for one); wall is the client's view of the same call. Runs in a private schema, dropped at
the end.

    .venv/bin/python bench/pg_plans.py --pg postgresql://root@127.0.0.1:5432/test --sends 2000
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from bench.rest_send import make_app  # noqa: E402
from core.db import Base, db  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.support.databases import pg_schema  # noqa: E402

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def backend_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one PostgreSQL backend (this machine's server only)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), required=not os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--sends", type=int, default=2000)
    args = parser.parse_args()
    cpu: collections.Counter[str] = collections.Counter()
    wall: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    with pg_schema(args.pg) as url, tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, tmp)
        with app.app_context():
            Base.metadata.create_all(db.engine)
            engine = db.engine
        client = app.test_client()
        factory = Factory(client)
        seller, buyer = factory.user(), factory.user()
        r = client.post(f"/api/v1/listings/{factory.listing(seller)['id']}/inquiries", headers=buyer.headers)
        send_url = f"/api/v1/groups/{r.get_json()['id']}/messages"
        senders = [seller.headers, buyer.headers]

        def send(i: int, prefix: str) -> None:
            r = client.post(send_url, json={"client_id": f"{prefix}{i}", "type": "txt", "body": {"text": "还在吗"}},
                            headers=senders[i % 2])
            assert r.status_code == 201, r.get_json()

        for i in range(100):  # psycopg prepares a statement on its sixth call on a connection
            send(i, "warm")

        def before(conn, _cursor, _statement, _params, _context, _many) -> None:
            pid = conn.connection.dbapi_connection.info.backend_pid
            conn.info["bench_started"] = (pid, backend_cpu_s(pid), time.perf_counter())

        def after(conn, _cursor, statement, _params, _context, _many) -> None:
            pid, cpu_at, wall_at = conn.info.pop("bench_started")
            key = " ".join(statement.split())[:70]
            wall[key] += time.perf_counter() - wall_at
            cpu[key] += backend_cpu_s(pid) - cpu_at
            calls[key] += 1

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        for i in range(args.sends):
            send(i, "c")
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        n = args.sends
        print(f"per send, {n} sends: server CPU µs, wall µs, calls, statement")
        for key, spent in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"{spent / n * 1e6:8.1f} {wall[key] / n * 1e6:8.1f} {calls[key] / n:4.1f}  {key}")
        print(f"total    {sum(cpu.values()) / n * 1e6:8.1f} {sum(wall.values()) / n * 1e6:8.1f}")
        with app.app_context(), db.engine.connect() as conn:
            print("one pooled connection's prepared statements: generic plans, custom plans, statement")
            for generic, custom, statement in conn.exec_driver_sql(
                    "SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 70)"
                    " FROM pg_prepared_statements ORDER BY custom_plans DESC, generic_plans DESC"):
                print(f"{generic:8d} {custom:8d}  {statement}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
