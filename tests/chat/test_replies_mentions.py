"""Replies carry a snapshot of the message they answer (recalled when it is); mentions in user groups and
rooms mark the conversation `mentioned` until read and notify a muted chat; every refusal has its code."""
from __future__ import annotations

from chat.notify.worker import drain
from tests.chat.helpers import API
from tests.chat.test_notify import hook, rows  # noqa: F401 - the webhook receiver fixture
from tests.chat.test_user_groups import create


def send(chat, actor, group_id, text="你好", status=201, **extra):
    payload = {"client_id": f"c-{text}-{actor.id}-{len(extra)}", "type": "txt", "body": {"text": text}, **extra}
    r = chat.send_raw(actor, group_id, payload)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def error_code(r) -> str:
    return r.get_json()["error"]["code"]


def conversation(client, actor, group_id) -> dict:
    items = client.get(f"{API}/conversations", headers=actor.headers).get_json()["items"]
    return next(item for item in items if item["group_id"] == group_id)


def test_a_reply_carries_the_quote_and_says_recalled_once_the_original_is(client, factory, chat):
    seller, buyer = factory.user(nickname="卖家"), factory.user()
    group_id = chat.item_group(buyer, seller)
    original = chat.send(seller, group_id, "还在的,\n可以小刀")
    reply = send(chat, buyer, group_id, "能便宜50吗", reply_to={"id": original["id"]})
    assert reply["reply_to"] == {"id": original["id"], "seq": original["seq"],
                                 "sender": {"id": seller.id, "nickname": "卖家"}, "type": "txt",
                                 "preview": "还在的, 可以小刀", "recalled": False}
    r = client.patch(f"{API}/groups/{group_id}/messages/{original['id']}", json={"body": {"text": "还在的"}},
                     headers=seller.headers)
    assert r.status_code == 200
    assert chat.history(buyer, group_id)["items"][-1]["reply_to"]["preview"] == "还在的"  # quotes follow edits
    r = client.post(f"{API}/groups/{group_id}/messages/{original['id']}/recall", headers=seller.headers)
    assert r.status_code == 200
    late = send(chat, buyer, group_id, "人呢", reply_to={"id": original["id"]})  # replying to a recalled one
    history = {m["id"]: m for m in chat.history(buyer, group_id)["items"]}
    for message_id in (reply["id"], late["id"]):
        quote = history[message_id]["reply_to"]
        assert (quote["id"], quote["recalled"], quote["preview"]) == (original["id"], True, "")
    assert history[original["id"]]["body"] == {}


def test_a_reply_names_a_message_of_the_same_group(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group_id, other = chat.item_group(buyer, seller), chat.item_group(buyer, seller)
    elsewhere = chat.send(seller, other, "另一个商品")
    for reply_to, code in (({"id": elsewhere["id"]}, "reply_not_found"), ({"id": 999999}, "reply_not_found"),
                           ({"id": "1"}, "validation_error"), ({"seq": 1}, "validation_error"),
                           (5, "validation_error")):
        r = chat.send_raw(buyer, group_id, {"client_id": f"r-{code}-{reply_to}", "type": "txt",
                                            "body": {"text": "x"}, "reply_to": reply_to})
        assert (r.status_code, error_code(r)) == (400, code), reply_to
    assert chat.history(buyer, group_id)["items"] == []


def test_a_mention_in_a_muted_group_shows_until_read_and_still_notifies(client, factory, chat, hook):  # noqa: F811
    owner, a, b = factory.user(), factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id, b.id])["id"]
    for actor in (a, b):
        r = client.put(f"{API}/conversations/{group_id}", json={"muted": True}, headers=actor.headers)
        assert r.status_code == 200
    drain(client.application)
    message = send(chat, owner, group_id, "@小李 你的快递到了", mentions=[a.id])
    assert message["mentions"] == [a.id]
    assert conversation(client, a, group_id)["mentioned"] is True
    assert conversation(client, b, group_id)["mentioned"] is False
    assert conversation(client, owner, group_id)["mentioned"] is False
    assert [(row.user_id, row.message_id) for row in rows(client.application) if row.due_at is not None] == \
        [(a.id, message["id"])]
    assert drain(client.application) == {"sent": 1}
    assert [request["body"]["user_id"] for request in hook.received] == [a.id]
    send(chat, owner, group_id, "再说一句")
    assert conversation(client, a, group_id)["mentioned"] is True  # until read past the mention
    r = client.post(f"{API}/groups/{group_id}/read", json={"seq": message["seq"]}, headers=a.headers)
    assert r.status_code == 204
    assert conversation(client, a, group_id)["mentioned"] is False


def test_the_owner_mentions_everyone_but_a_member_may_not(client, factory, chat):
    owner, a, b = factory.user(), factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id, b.id])["id"]
    r = chat.send_raw(a, group_id, {"client_id": "all-1", "type": "txt", "body": {"text": "@所有人"},
                                    "mentions": "all"})
    assert (r.status_code, error_code(r)) == (403, "mention_all_forbidden")
    send(chat, owner, group_id, "@所有人 周六见", mentions="all")
    assert [conversation(client, actor, group_id)["mentioned"] for actor in (owner, a, b)] == [False, True, True]


def test_mentions_name_members_of_groups_and_rooms_only(client, factory, chat):
    owner, a, stranger = factory.user(), factory.user(), factory.user()
    group_id = create(client, owner, member_ids=[a.id])["id"]
    item = chat.item_group(a, owner)
    for group, mentions, status, code in (
            (group_id, [stranger.id], 400, "mention_not_member"),
            (group_id, list(range(1, 52)), 400, "validation_error"),
            (group_id, ["1"], 400, "validation_error"),
            (group_id, "everyone", 400, "validation_error"),
            (item, [owner.id], 400, "mentions_not_allowed")):
        r = chat.send_raw(a, group, {"client_id": f"m-{code}-{len(mentions)}", "type": "txt",
                                     "body": {"text": "@"}, "mentions": mentions})
        assert (r.status_code, error_code(r)) == (status, code), mentions
    room = chat.room(owner)
    assert client.post(f"{API}/rooms/{room}/join", headers=a.headers).status_code in (200, 201, 204)
    assert send(chat, a, room, "@房主", mentions=[owner.id])["mentions"] == [owner.id]
