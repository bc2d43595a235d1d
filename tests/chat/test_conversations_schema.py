"""The sort key of the conversation list: each member's activity_at follows their item/direct group's messages
(set by the send path, chat/messages/send.py)."""
from __future__ import annotations


from sqlalchemy import select

from chat.models import ChatGroup, ChatMember
from core.db import db
from tests.chat.helpers import API


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
