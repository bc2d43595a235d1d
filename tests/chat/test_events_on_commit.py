"""Units of work publish the events raised inside them after they commit, drop them when they roll back
(`db.transaction()`, `db.core_transaction()`), and a failing publisher never fails the committed work."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from chat.messages.send import post_message
from chat.models import ChatMessage
from core.db import db
from tests.chat.conftest import wrap_publisher
from tests.chat.helpers import API


@pytest.fixture
def published(clean_app, monkeypatch) -> list[list[dict]]:
    """Each commit's events as the publisher got them (one list per commit)."""
    batches: list[list[dict]] = []
    wrap_publisher(clean_app, monkeypatch, lambda events: batches.append(list(events)))
    return batches


@pytest.mark.parametrize("unit", ["transaction", "core_transaction"])
def test_events_are_published_once_after_commit_in_the_order_raised(ctx, published, unit):
    with getattr(db, unit)():
        db.on_commit({"type": "a"})
        db.on_commit({"type": "b"})
        assert published == []  # nothing before the commit
    assert published == [[{"type": "a"}, {"type": "b"}]]


@pytest.mark.parametrize("unit", ["transaction", "core_transaction"])
def test_events_of_a_unit_that_rolls_back_are_dropped(ctx, published, unit):
    with pytest.raises(RuntimeError, match="refused"):
        with getattr(db, unit)():
            db.on_commit({"type": "never"})
            raise RuntimeError("refused")
    with getattr(db, unit)():
        db.on_commit({"type": "next"})
    assert published == [[{"type": "next"}]]


def test_an_event_outside_a_unit_of_work_is_a_bug(ctx):
    with pytest.raises(RuntimeError, match="inside db.transaction"):
        db.on_commit({"type": "lost"})


def test_a_failing_publisher_is_logged_and_the_work_stays_committed(client, factory, chat, monkeypatch, caplog):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)

    def broken(_events):
        raise ConnectionError("broker down")

    monkeypatch.setattr(client.application.extensions["db"], "publish", broken)
    assert chat.send(buyer, group_id, "照样发出")["seq"] == 1
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChatMessage)) == 1
        db.remove()
    assert "publishing 1 committed event(s) failed" in caplog.text


def test_a_message_appended_in_a_unit_that_then_fails_is_neither_stored_nor_published(client, factory, chat,
                                                                                       published):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    with client.application.app_context():
        with pytest.raises(RuntimeError, match="after the append"):
            with db.transaction() as s:
                post_message(s, group_id=group_id, sender=None, type="system", body={"text": "撤销"})
                raise RuntimeError("after the append")
        assert db.session.scalar(select(func.count()).select_from(ChatMessage)) == 0
        db.remove()
    assert published == []
    assert chat.send(buyer, group_id, "第一条")["seq"] == 1  # the seq was not taken either


def test_a_membership_change_publishes_its_message_and_event_in_its_commit(client, factory, published):
    """A user group's creation: its `system` message and `member_joined` go out together, after the commit."""
    owner, member = factory.user(), factory.user()
    r = client.post(f"{API}/groups", json={"name": "群", "member_ids": [member.id]}, headers=owner.headers)
    assert r.status_code == 201
    assert [[e["type"] for e in batch] for batch in published] == [["message", "member_joined"]]
    assert published[0][1]["recipients"] == sorted([owner.id, member.id])


def test_a_membership_change_that_fails_publishes_nothing(client, factory, published, monkeypatch):
    """The group's `system` message was appended (its event raised) before the change failed: both go."""
    from chat.members.rules import Scene

    def broken(_scene):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Scene, "member_ids", broken)
    owner, member = factory.user(), factory.user()
    r = client.post(f"{API}/groups", json={"name": "群", "member_ids": [member.id]}, headers=owner.headers)
    assert r.status_code == 500 and published == []
