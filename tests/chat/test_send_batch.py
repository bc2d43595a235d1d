"""Batched sends (`send_many`, the WebSocket send queue's unit of work): each request gets what a single
send gives it, the new messages commit together, and one failing request costs the others nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import OperationalError

from chat.messages import batch
from chat.messages.batch import SendRequest, send_many
from chat.messages.send import SendResult
from chat.models import ChatMessage, InboxEntry
from core.db import db
from core.errors import ApiError
from tests.chat.helpers import put_keyword_rules


def text(sender, group_id: int, client_id: str, words: str = "你好", **kw) -> SendRequest:
    return SendRequest(sender_id=sender.id, group_id=group_id, client_id=client_id, type="txt",
                       body={"text": words}, **kw)


def run(client, requests: list[SendRequest]) -> list:
    with client.application.app_context():
        try:
            return send_many(requests)
        finally:
            db.remove()


def codes(outcomes: list) -> list:
    return [o.code if isinstance(o, ApiError) else ("new" if o.created else "replay") for o in outcomes]


def inbox(client, user) -> list[tuple[int, int, int]]:
    """(position, group, seq) of every message in the user's inbox, in position order."""
    with client.application.app_context():
        rows = db.session.execute(select(InboxEntry.pos, ChatMessage.group_id, ChatMessage.seq)
                                  .join(ChatMessage, ChatMessage.id == InboxEntry.message_id)
                                  .where(InboxEntry.user_id == user.id).order_by(InboxEntry.pos)).all()
        db.remove()
    return [tuple(r) for r in rows]


def conversations(client, user) -> dict[int, tuple[int, int]]:
    """group → (last message seq, unread count) from the user's conversation list."""
    items = client.get("/api/v1/conversations", headers=user.headers).get_json()["items"]
    return {c["group_id"]: (c["last_message"]["seq"], c["unread_count"]) for c in items}


def test_a_batch_over_several_groups_numbers_seqs_and_positions_in_order(client, factory, chat, recorded):
    seller, b1, b2 = factory.user(), factory.user(), factory.user()
    g1, g2 = chat.item_group(b1, seller), chat.item_group(b2, seller)
    chat.send(b1, g1, "先来一条")
    out = run(client, [text(b1, g1, "a"), text(b2, g2, "b"), text(seller, g1, "c"), text(b1, g1, "d"),
                       text(seller, g2, "e")])
    assert codes(out) == ["new"] * 5
    assert [o.message["seq"] for o in out] == [2, 1, 3, 4, 2]
    # The seller's inbox holds every message once, in the batch's order, with no gap.
    assert inbox(client, seller) == [(1, g1, 1), (2, g1, 2), (3, g2, 1), (4, g1, 3), (5, g1, 4), (6, g2, 2)]
    assert [o.cursors[seller.id] for o in out] == [2, 3, 4, 5, 6]
    assert inbox(client, b1) == [(1, g1, 1), (2, g1, 2), (3, g1, 3), (4, g1, 4)]
    assert all(o.recipients == sorted(o.cursors) for o in out)
    assert [e["message"]["client_id"] for e in recorded if e["type"] == "message"][-5:] == list("abcde")
    # The groups' last messages and each sender's read marker moved as single sends move them.
    assert conversations(client, seller) == {g1: (4, 1), g2: (2, 0)}
    assert conversations(client, b1) == {g1: (4, 0)}
    assert conversations(client, b2) == {g2: (2, 1)}


def test_each_request_gets_its_own_refusal_and_the_rest_commit(client, factory, chat):
    seller, buyer, stranger, blocked_buyer = factory.user(), factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    blocked_group = chat.item_group(blocked_buyer, seller)
    chat.block(seller, blocked_buyer)
    out = run(client, [
        text(buyer, group_id, "ok-1"),
        text(stranger, group_id, "outsider"),
        text(buyer, 10**9, "no-group"),
        text(blocked_buyer, blocked_group, "blocked"),
        SendRequest(sender_id=buyer.id, group_id=group_id, client_id="bad", type="txt", body={"text": ""}),
        SendRequest(sender_id=buyer.id, group_id=group_id, client_id="", type="txt", body={"text": "x"}),
        text(buyer, group_id, "ok-2"),
    ])
    assert codes(out) == ["new", "not_found", "not_found", "blocked", "validation_error", "validation_error", "new"]
    assert [m["client_id"] for m in chat.history(seller, group_id)["items"]] == ["ok-1", "ok-2"]
    assert chat.history(seller, blocked_group)["items"] == []


def test_retries_in_and_across_batches_answer_with_the_first_message(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = run(client, [text(buyer, group_id, "x", "第一次"), text(buyer, group_id, "x", "又一次")])
    assert codes(first) == ["new", "replay"]
    assert first[1].message == first[0].message
    again = run(client, [text(buyer, group_id, "x", "第三次"), text(seller, group_id, "x", "卖家的")])
    assert codes(again) == ["replay", "new"]
    assert again[0].message == first[0].message and again[0].cursors == {buyer.id: 1}
    other = chat.direct(buyer, seller)
    assert codes(run(client, [text(buyer, other, "x")])) == ["client_id_reused"]
    assert [m["body"]["text"] for m in chat.history(seller, group_id)["items"]] == ["第一次", "卖家的"]


def test_a_retry_among_new_sends_gets_its_copy_and_the_new_ones_commit_without_a_gap(client, factory, chat, caplog,
                                                                                    monkeypatch):
    # Batches take sends as new; the retry breaks the unique client_id, and the batch goes again whole, its
    # client_ids looked up first: no send goes alone (a big batch sent one by one would stall its sockets).
    monkeypatch.setattr(batch, "_append_alone", lambda send: pytest.fail(f"send {send.index} went alone"))
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = run(client, [text(buyer, group_id, "x", "第一次")])
    out = run(client, [text(seller, group_id, "s1"), text(buyer, group_id, "x", "重发"), text(buyer, group_id, "y")])
    assert codes(out) == ["new", "replay", "new"]
    assert out[1].message == first[0].message and out[1].cursors == {buyer.id: 1}
    assert [(m["seq"], m["client_id"]) for m in chat.history(seller, group_id)["items"]] == [(1, "x"), (2, "s1"), (3, "y")]
    assert inbox(client, seller) == [(1, group_id, 1), (2, group_id, 2), (3, group_id, 3)]
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_a_retry_refused_now_still_gets_the_message_stored_before(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    first = run(client, [text(buyer, group_id, "x")])
    chat.block(seller, buyer)
    out = run(client, [text(buyer, group_id, "x"), text(buyer, group_id, "y")])
    assert codes(out) == ["replay", "blocked"]
    assert out[0].message == first[0].message


def test_rooms_and_blocked_content_take_the_single_send_path(client, factory, chat):
    owner, buyer, seller = factory.user(), factory.user(), factory.user()
    room = chat.room(owner)
    group_id = chat.item_group(buyer, seller)
    put_keyword_rules(client, factory.admin(), [{"pattern": "违禁", "kind": "word", "action": "block"}])
    out = run(client, [text(owner, room, "r1"), text(buyer, group_id, "bad", "有违禁词"), text(buyer, group_id, "ok")])
    assert codes(out) == ["new", "content_blocked", "new"]
    assert out[0].cursors == {} and out[0].recipients == [owner.id] and out[0].group_kind == "room"


def test_a_failing_batch_sends_each_request_on_its_own(client, factory, chat, monkeypatch):
    seller, buyer, stranger = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)

    def broken(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("lost the connection"))

    monkeypatch.setattr(batch, "_append_many", broken)
    out = run(client, [text(buyer, group_id, "a"), text(stranger, group_id, "b"), text(seller, group_id, "c")])
    assert codes(out) == ["new", "not_found", "new"]
    assert [m["client_id"] for m in chat.history(seller, group_id)["items"]] == ["a", "c"]
    assert isinstance(out[0], SendResult) and out[0].cursors == {buyer.id: 1, seller.id: 1}


@pytest.mark.parametrize("size", [1, 150])
def test_batches_of_any_size_commit_every_message_once(client, factory, chat, size):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    out = run(client, [text(buyer if i % 2 else seller, group_id, f"m{i}") for i in range(size)])
    assert [o.message["seq"] for o in out] == list(range(1, size + 1))
    assert [pos for pos, _, _ in inbox(client, buyer)] == list(range(1, size + 1))


def test_contact_details_in_a_batch_get_one_notice_per_group_after_it(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    out = run(client, [text(buyer, group_id, "p1", "加我微信 13812345678"), text(seller, group_id, "p2", "打 13900001111")])
    assert codes(out) == ["new", "new"]
    assert [(m["type"], m["seq"]) for m in chat.history(seller, group_id)["items"]] == [
        ("txt", 1), ("txt", 2), ("system", 3)]


def test_batched_rows_are_stored_as_a_single_send_stores_them(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    body, ext = {"text": "九成新,¥450 \"包邮\" \\ 🙏"}, {"card": {"listing_id": 7, "tags": ["自提", None, 2.5]}}
    chat.send_raw(buyer, group_id, {"client_id": "rest-1", "type": "txt", "body": body})
    chat.send_raw(buyer, group_id, {"client_id": "rest-2", "type": "txt", "body": body, "ext": ext})
    run(client, [text(buyer, group_id, "ws-1", body["text"]), text(buyer, group_id, "ws-2", body["text"], ext=ext)])
    with client.application.app_context():
        stored = dict(db.session.execute(select(ChatMessage.client_id, stored_json())).all())
        db.remove()
    assert stored["ws-1"] == stored["rest-1"] and stored["ws-2"] == stored["rest-2"]


def stored_json():
    """The stored JSON text of body and ext, SQL NULL told apart from JSON null."""
    return (func.coalesce(cast(ChatMessage.body, String), "<NULL>") + "|"
            + func.coalesce(cast(ChatMessage.ext, String), "<NULL>"))
