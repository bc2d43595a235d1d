"""GET /conversations costs a fixed number of SQL statements whatever the page size (no query per row)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event

from core.db import db
from tests.chat.helpers import API

CONVERSATIONS = 105


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_statement_count_does_not_grow_with_the_page_size(client, factory, chat):
    buyer, seller, friend = factory.user(), factory.user(), factory.user()
    for i in range(CONVERSATIONS):
        group_id = chat.inquiry(buyer, chat.listing(seller, title=f"物品{i}", images=[chat.upload(seller)]))["id"]
        chat.send(seller if i % 2 else buyer, group_id, f"消息{i}")
    chat.send(friend, chat.direct(friend, buyer), "你好")
    room_id = chat.room(friend)
    assert client.post(f"{API}/rooms/{room_id}/join", headers=buyer.headers).status_code == 200
    chat.send(friend, room_id, "群消息")
    chat.block(buyer, friend)

    counts = {}
    for limit in (1, 20, 100):
        with counted(client.application) as statements:
            r = client.get(f"{API}/conversations", query_string={"limit": limit}, headers=buyer.headers)
        body = r.get_json()
        assert r.status_code == 200 and len(body["items"]) == limit and body["next_cursor"]
        with counted(client.application) as next_statements:
            r = client.get(f"{API}/conversations", query_string={"limit": limit, "cursor": body["next_cursor"]},
                           headers=buyer.headers)
        assert r.status_code == 200 and len(r.get_json()["items"]) == min(limit, CONVERSATIONS + 2 - limit)
        counts[limit] = (len(statements), len(next_statements))
        listing_queries = [s for s in statements if "chat_members" in s]
        assert len(listing_queries) == 1, statements
    assert counts[1] == counts[20] == counts[100], counts
    assert counts[1][0] <= 3, counts  # the token lookup and the list itself
