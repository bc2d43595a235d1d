"""/ws messages over real sockets: `send` → `ack` after commit, the push to every device of every member
(never a second copy to the sending socket), retried client_ids, REST sends, rooms, outsiders, blocks."""
from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import func, select

from chat.broker.memory import MemoryBroker
from chat.cursors import decode_cursor
from chat.messages.batch import SendRequest, send_many
from chat.models import ChatMessage, InboxEntry
from core.db import db
from tests.support.wsclient import WsClient

API = "/api/v1"


@pytest.fixture
def sockets(live_server):
    """Open ready (hello + sync) sockets on the live server; all closed after the test."""
    with ExitStack() as stack:
        def open_socket(actor, *, token: str | None = None) -> WsClient:
            ws = WsClient(live_server.ws_url, token or actor.token)
            stack.callback(ws.close)
            ws.ready()
            return ws
        yield open_socket


def _rows(app, **where) -> list:
    with app.app_context():
        rows = db.session.execute(select(ChatMessage).filter_by(**where)).scalars().all()
        db.remove()
    return rows


def test_the_ack_comes_after_the_commit(live_server, chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ws = sockets(buyer)
    for i in range(5):
        ws.send_text(group_id, f"还在吗?{i}", f"commit-{i}")
        ack = ws.op("ack")
        # read with a connection of its own the moment the ack arrives
        with live_server.app.app_context():
            row = db.session.get(ChatMessage, ack["message"]["id"])
            inbox = db.session.scalar(select(func.count()).select_from(InboxEntry)
                                      .where(InboxEntry.message_id == ack["message"]["id"]))
            db.remove()
        assert row is not None and row.client_id == f"commit-{i}" and row.seq == i + 1
        assert inbox == 2  # both members' inboxes
        assert ack["message"]["body"] == {"text": f"还在吗?{i}"} and ack["message"]["sender"]["id"] == buyer.id


def test_a_message_reaches_every_device_of_every_member_and_the_sender_only_as_an_ack(chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_phone = factory.login(buyer.username)
    seller_phone = factory.login(seller.username)
    sending = sockets(buyer)
    others = {"buyer's other device": sockets(buyer, token=buyer_phone.token),
              "seller's first device": sockets(seller),
              "seller's second device": sockets(seller, token=seller_phone.token)}
    sending.send_text(group_id, "能便宜点吗 🙏", "multi-1", ext={"listing": {"title": "九成新 iPhone", "价格": 2500}})
    ack = sending.op("ack")
    assert ack["client_id"] == "multi-1" and decode_cursor(ack["cursor"]) == 1
    for name, ws in others.items():
        pushed = ws.op("message")
        assert pushed["message"] == ack["message"], name
        assert pushed["cursor"] and "client_id" in pushed["message"]
        assert ws.flush() == [], f"{name} got more than one frame"
    assert sending.flush() == [], "the sending socket got the message as well as its ack"


def test_the_senders_only_socket_is_answered_by_its_ack_alone_and_a_second_one_gets_the_copy(
        live_server, chat, factory, sockets, monkeypatch):
    """In-process broker: the hub holds every socket, so the copy a lone sending socket would drop
    (its ack is the same message at the same position) is for other processes only, and there are none."""
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    broker = live_server.app.extensions["broker"]
    assert isinstance(broker, MemoryBroker)
    published: list[str] = []  # the channels messages were published on
    publish_many = broker.publish_many

    def recording(items, *, elsewhere=()):
        items = list(items)
        # a message alone (`p…`) or with what else the commit sends the user (`m[…]`)
        texts = [(channel, str(payload)) for channel, payload in items]  # as Redis carries them
        published.extend(channel for channel, text in texts if '"p[' in text or text.startswith("p"))
        return publish_many(items, elsewhere=elsewhere)

    monkeypatch.setattr(broker, "publish_many", recording)
    sending, seller_ws = sockets(buyer), sockets(seller)
    sending.send_text(group_id, "还在吗", "lone-1")
    assert decode_cursor(sending.op("ack")["cursor"]) == 1
    assert seller_ws.op("message")["message"]["client_id"] == "lone-1"
    assert f"user:{buyer.id}" not in published and f"user:{seller.id}" in published

    phone = sockets(buyer, token=factory.login(buyer.username).token)
    sending.send_text(group_id, "在的话回我", "lone-2")
    ack = sending.op("ack")
    assert phone.op("message")["message"] == ack["message"] == seller_ws.op("message")["message"]
    assert f"user:{buyer.id}" in published
    assert sending.flush() == [], "the sending socket got the message as well as its ack"


def test_what_one_commit_sends_a_user_travels_as_one_broker_message_and_arrives_in_order(
        live_server, chat, factory, sockets, monkeypatch):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    broker = live_server.app.extensions["broker"]
    published: list[tuple[str, str]] = []
    publish_many = broker.publish_many

    def recording(items, *, elsewhere=()):
        items = list(items)
        published.extend(items)
        return publish_many(items, elsewhere=elsewhere)

    seller_ws = sockets(seller)
    monkeypatch.setattr(broker, "publish_many", recording)
    with live_server.app.app_context():  # two sends in one batch: one commit
        outcomes = send_many([SendRequest(sender_id=buyer.id, group_id=group_id, client_id=f"two-{i}", type="txt",
                                          body={"text": f"第{i}条"}) for i in (1, 2)])
    assert [o.message["seq"] for o in outcomes] == [1, 2]
    to_seller = [payload for channel, payload in published if channel == f"user:{seller.id}"]
    # two messages and the unread total, routed as they are in this process, one `m` message through Redis
    assert len(to_seller) == 1 and len(to_seller[0]) == 3 and str(to_seller[0]).startswith("m")
    frames = [seller_ws.recv() for _ in range(3)]
    assert [(f["op"], f.get("type")) for f in frames] == [("message", None), ("message", None), ("event", "unread")]
    assert [f["message"]["body"]["text"] for f in frames[:2]] == ["第1条", "第2条"]
    assert frames[2]["data"]["unread_total"] == 2


def test_a_retried_client_id_gets_the_first_message_and_no_second_copy(live_server, chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_phone = factory.login(buyer.username)
    ws, phone, peer = sockets(buyer), sockets(buyer, token=buyer_phone.token), sockets(seller)
    ws.send_text(group_id, "第一次", "retry-1")
    first = ws.op("ack")["message"]
    assert peer.op("message")["message"]["id"] == first["id"]
    assert phone.op("message")["message"]["id"] == first["id"]

    ws.send_text(group_id, "第二次(不同的内容)", "retry-1")  # the same socket retries
    again = ws.op("ack")
    phone.send_text(group_id, "第三次", "retry-1")  # another device of the sender retries
    from_phone = phone.op("ack")
    r = chat.send_raw(buyer, group_id, {"client_id": "retry-1", "type": "txt", "body": {"text": "REST"}})
    assert r.status_code == 200 and r.get_json() == first

    for ack in (again, from_phone):
        assert ack["client_id"] == "retry-1" and ack["message"] == first
    for ws_ in (ws, phone, peer):
        assert [f for f in ws_.flush() if f["op"] in ("message", "ack")] == []
    assert len(_rows(live_server.app, group_id=group_id)) == 1


def test_a_rest_send_is_pushed_to_every_socket_of_both_members(chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws, seller_ws = sockets(buyer), sockets(seller)
    sent = chat.send(buyer, group_id, "REST 发的 <script>alert(1)</script>' OR 1=1 --", client_id="rest-1")
    for ws in (buyer_ws, seller_ws):
        pushed = ws.op("message")
        assert pushed["message"] == sent and decode_cursor(pushed["cursor"]) == 1
        assert ws.flush() == []


def test_messages_of_several_groups_come_in_each_groups_seq_order(chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    item, direct = chat.item_group(buyer, seller), chat.direct(buyer, seller)
    sender, receiver = sockets(buyer), sockets(seller)
    for i in range(6):
        sender.send_text(item if i % 2 else direct, f"消息{i}", f"order-{i}")
    acks = [sender.op("ack") for _ in range(6)]
    got = [receiver.op("message") for _ in range(6)]
    assert [f["message"]["id"] for f in got] == [a["message"]["id"] for a in acks]
    assert [decode_cursor(f["cursor"]) for f in got] == list(range(1, 7))
    for group_id in (item, direct):
        assert [f["message"]["seq"] for f in got if f["message"]["group_id"] == group_id] == [1, 2, 3]


def test_a_room_message_is_live_only_and_carries_no_cursor(client, chat, factory, sockets):
    owner, member = factory.user(), factory.user()
    room_id = chat.room(owner)
    assert client.post(f"{API}/rooms/{room_id}/join", headers=member.headers).status_code == 200
    sender, receiver = sockets(member), sockets(owner)
    sender.send_text(room_id, "大家好", "room-1")
    ack = sender.op("ack")
    assert ack["client_id"] == "room-1" and "cursor" not in ack
    pushed = receiver.op("message")
    assert pushed == {"op": "message", "message": ack["message"]}
    assert sender.flush() == []
    assert receiver.sync(None) == []  # rooms are not in the inbox


def test_a_user_outside_the_group_receives_nothing_of_it(chat, factory, sockets):
    seller, buyer, outsider = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    spy = sockets(outsider)
    buyer_ws, seller_ws = sockets(buyer), sockets(seller)
    buyer_ws.send_text(group_id, "私聊内容", "private-1")
    buyer_ws.op("ack")
    chat.send(seller, group_id, "别人看不到")
    seller_ws.op("message")
    seller_ws.send({"op": "read", "group_id": group_id, "seq": 2})
    seller_ws.send({"op": "typing", "group_id": group_id})
    buyer_ws.recv_until(lambda f: f.get("type") == "typing")
    assert spy.flush() == []
    assert spy.sync(None) == []
    spy.send({"op": "read", "group_id": group_id, "seq": 1})
    assert spy.op("error")["error"]["code"] == "not_found"


def test_a_send_between_blocked_users_is_refused_with_403_blocked(live_server, chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    buyer_ws, seller_ws = sockets(buyer), sockets(seller)
    chat.block(seller, buyer)
    for ws, client_id in ((buyer_ws, "blocked-1"), (seller_ws, "blocked-2")):
        ws.send_text(group_id, "还在吗", client_id)
        error = ws.op("error")
        assert error["client_id"] == client_id and error["error"]["code"] == "blocked"
    assert buyer_ws.flush() == [] and seller_ws.flush() == []
    assert _rows(live_server.app, group_id=group_id) == []


def test_non_text_types_and_ext_arrive_verbatim(chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sender, receiver = sockets(buyer), sockets(seller)
    ext = {"card": {"title": "<b>宜家书架</b>", "emoji": "🪑", "nested": [1, {"x": None}], "sql": "1; DROP TABLE x"}}
    sender.send({"op": "send", "client_id": "loc-1", "group_id": group_id, "type": "location",
                 "body": {"lat": 31.2304, "lng": 121.4737, "address": "上海市黄浦区人民广场"}, "ext": ext})
    ack = sender.op("ack")
    pushed = receiver.op("message")["message"]
    assert pushed == ack["message"]
    assert pushed["type"] == "location" and pushed["ext"] == ext
    assert pushed["body"] == {"lat": 31.2304, "lng": 121.4737, "address": "上海市黄浦区人民广场"}


def test_a_client_id_sent_twice_at_once_gets_two_acks_of_one_message(live_server, chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    ws, peer = sockets(buyer), sockets(seller)
    for _ in range(3):  # a client retrying before the first ack came back
        ws.send_text(group_id, "连发", "twice-1")
    acks = [ws.op("ack") for _ in range(3)]
    assert {a["message"]["id"] for a in acks} == {acks[0]["message"]["id"]}
    assert [f for f in ws.flush() if f["op"] in ("message", "ack")] == []
    assert peer.op("message")["message"]["id"] == acks[0]["message"]["id"]
    assert [f for f in peer.flush() if f["op"] == "message"] == []
    assert len(_rows(live_server.app, group_id=group_id)) == 1


def test_control_characters_in_text_and_ext_are_kept_verbatim(chat, factory, sockets):
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sender, receiver = sockets(buyer), sockets(seller)
    sender.send_text(group_id, "a\u0001b\u0007c\n\t😀", "ctrl-1", ext={"k\u001f": "v\u0008"})
    ack = sender.op("ack")
    assert ack["message"]["body"] == {"text": "a\u0001b\u0007c\n\t😀"}
    assert ack["message"]["ext"] == {"k\u001f": "v\u0008"}
    assert receiver.op("message")["message"] == ack["message"]
    # NUL is the one character refused (core.input): PostgreSQL text cannot hold it.
    sender.send_text(group_id, "a\u0000b", "ctrl-2")
    assert sender.op("error")["error"]["code"] == "invalid_json"


def test_an_image_of_our_own_upload_is_sent_over_the_socket(live_server, factory, chat, sockets):
    # The upload's absolute URL names the host the socket connected to: the send queue checks it
    # against that request's host, though it works outside the request.
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    name = chat.upload(buyer, "png").rsplit("/", 1)[1]
    url = f"{live_server.url}/api/v1/uploads/{name}"
    elsewhere = f"http://elsewhere.example/api/v1/uploads/{name}"
    ws, peer = sockets(buyer), sockets(seller)
    ws.send({"op": "send", "client_id": "pic-1", "group_id": group_id, "type": "img",
             "body": {"url": url, "width": 640, "height": 480}})
    assert ws.op("ack")["message"]["body"]["url"] == url
    assert peer.op("message")["message"]["body"]["url"] == url
    ws.send({"op": "send", "client_id": "pic-2", "group_id": group_id, "type": "img",
             "body": {"url": elsewhere, "width": 640, "height": 480}})
    error = ws.op("error")
    assert error["client_id"] == "pic-2" and error["error"]["code"] == "validation_error"


def test_a_lone_senders_own_unread_total_still_reaches_the_socket_it_sent_from(live_server, chat, factory, sockets):
    """In process the sender's copy is left out; the unread total their reply moved is not."""
    seller, buyer = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sending, seller_ws = sockets(buyer), sockets(seller)
    seller_ws.send_text(group_id, "在的,诚心要吗", "seller-1")
    seller_ws.op("ack")
    assert sending.recv_until(lambda f: f.get("type") == "unread")["data"] == {"unread_total": 1, "unread_version": 1}
    sending.send_text(group_id, "要的", "reply-1")
    assert sending.op("ack")["message"]["client_id"] == "reply-1"
    assert sending.recv_until(lambda f: f.get("type") == "unread")["data"] == {"unread_total": 0, "unread_version": 2}
