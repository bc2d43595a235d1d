"""The sort key of the conversation list: each member's activity_at follows their item/direct group's messages."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.pool import NullPool

from chat.models import ChatGroup, ChatMember
from core.db import db, utcnow
from core.migrate import upgrade
from marketplace.models import User
from tests.chat.helpers import API
from tests.support.databases import pg_schema


def memberships(app, group_id: int) -> dict[int, ChatMember]:
    with app.app_context():
        rows = db.session.scalars(select(ChatMember).where(ChatMember.group_id == group_id)).all()
        return {row.user_id: row for row in rows}


def test_a_new_membership_starts_with_activity_at_its_join_time(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    for group_id in (chat.item_group(buyer, seller), chat.direct(buyer, seller), chat.room(buyer)):
        for member in memberships(client.application, group_id).values():
            assert member.activity_at == member.joined_at and member.hidden_until_seq is None


def test_each_message_moves_every_members_activity_in_item_and_direct_chats(client, factory, chat):
    buyer, seller = factory.user(), factory.user()
    for group_id in (chat.item_group(buyer, seller), chat.direct(buyer, seller)):
        sent = chat.send(buyer, group_id, "你好")
        with client.application.app_context():
            group_at = db.session.scalar(select(ChatGroup.last_message_at).where(ChatGroup.id == group_id))
        assert group_at.isoformat() == sent["created_at"]
        assert {m.activity_at for m in memberships(client.application, group_id).values()} == {group_at}


def test_room_messages_leave_members_rows_alone(client, factory, chat):
    owner, member = factory.user(), factory.user()
    room_id = chat.room(owner)
    assert client.post(f"{API}/rooms/{room_id}/join", headers=member.headers).status_code == 200
    before = {uid: m.activity_at for uid, m in memberships(client.application, room_id).items()}
    chat.send(owner, room_id, "大家好")
    assert {uid: m.activity_at for uid, m in memberships(client.application, room_id).items()} == before


def _trigger_works(url: str) -> None:
    upgrade(url)
    engine = create_engine(url, poolclass=NullPool)
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(insert(User.__table__), [
                {"id": uid, "username": f"u{uid}", "password_hash": "-", "nickname": f"u{uid}", "bio": "",
                 "role": "user", "rating_count": 0, "rating_total": 0, "created_at": now} for uid in (1, 2)])
            conn.execute(insert(ChatGroup.__table__).values(id=1, kind="direct", direct_key="1:2", description="",
                                                            read_only=False, last_seq=0))
            conn.execute(insert(ChatMember.__table__), [{"group_id": 1, "user_id": uid, "role": "member",
                                                          "last_read_seq": 0} for uid in (1, 2)])
            later = now + timedelta(minutes=5)
            conn.execute(update(ChatGroup.__table__).where(ChatGroup.id == 1).values(last_message_at=later))
            activity = conn.scalars(select(ChatMember.activity_at)).all()
        assert activity == [later, later], "the migration must create chat_groups_member_activity"
    finally:
        engine.dispose()


def test_the_migrated_schema_has_the_member_activity_trigger_on_sqlite(tmp_path):
    """Autogenerate does not see triggers: the migration must run chat.models.MEMBER_ACTIVITY_TRIGGER."""
    _trigger_works(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_the_migrated_schema_has_the_member_activity_trigger_on_postgresql():
    with pg_schema() as url:
        _trigger_works(url)
