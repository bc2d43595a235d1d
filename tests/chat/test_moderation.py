"""Moderation seen from chat: reported messages (members only, kept as evidence) and takedowns that close
a listing's chats."""
from __future__ import annotations

from chat.listing_events import REMOVED, RESTORED
from tests.chat.helpers import API


def _report(client, reporter, message_id: int, status: int = 201) -> dict:
    r = client.post(f"{API}/reports", json={"target_type": "message", "target_id": message_id, "reason": "辱骂"},
                    headers=reporter.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def _admin_report(client, admin, report_id: int) -> dict:
    items = client.get(f"{API}/admin/reports", headers=admin.headers).get_json()["items"]
    return next(r for r in items if r["id"] == report_id)


def test_a_member_reports_a_message_and_the_admin_sees_the_evidence_and_where_it_is(client, factory, chat):
    admin, buyer, seller = factory.admin(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    chat.send(buyer, group_id, "你好")
    text = "加我微信私下交易," + "便宜" * 150
    message = chat.send(seller, group_id, text)
    report = _admin_report(client, admin, _report(client, buyer, message["id"])["id"])
    assert report["target_owner_id"] == seller.id
    assert report["target_summary"] == text[:200]
    assert report["target_context"] == {"group_id": group_id, "seq": 2, "group_kind": "item", "type": "txt",
                                        "recalled": False}
    # The evidence stays when the sender recalls the message.
    r = client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall", headers=seller.headers)
    assert r.status_code == 200
    assert _admin_report(client, admin, report["id"])["target_summary"] == text[:200]


def test_only_members_of_the_group_can_report_its_messages(client, factory, chat):
    buyer, seller, outsider = factory.user(), factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    message = chat.send(seller, group_id, "你好")
    r = _report(client, outsider, message["id"], status=404)
    assert r["error"]["code"] == "not_found"
    r = _report(client, seller, message["id"], status=403)
    assert r["error"]["code"] == "cannot_report_self"


def test_room_members_report_room_messages_and_media_is_summarised_by_its_label(client, factory, chat):
    owner, member = factory.user(), factory.user()
    room_id = chat.room(owner)
    assert client.post(f"{API}/rooms/{room_id}/join", headers=member.headers).status_code == 200
    image = chat.send(owner, room_id, type="img", body={"url": chat.upload(owner)})
    admin = factory.admin()
    report = _admin_report(client, admin, _report(client, member, image["id"])["id"])
    assert report["target_summary"] == "[图片]" and report["target_context"]["group_kind"] == "room"


def test_a_recalled_message_can_still_be_reported(client, factory, chat):
    admin, a, b = factory.admin(), factory.user(), factory.user()
    group_id = chat.direct(a, b)
    message = chat.send(a, group_id, "骂人的话")
    client.post(f"{API}/groups/{group_id}/messages/{message['id']}/recall", headers=a.headers)
    report = _admin_report(client, admin, _report(client, b, message["id"])["id"])
    assert report["target_summary"] == "一条消息已被撤回" and report["target_context"]["recalled"] is True


def test_banning_through_a_message_report_bans_its_sender(client, factory, chat):
    admin, a, b = factory.admin(), factory.user(), factory.user()
    group_id = chat.direct(a, b)
    message = chat.send(a, group_id, "加我微信")
    report_id = _report(client, b, message["id"])["id"]
    r = client.post(f"{API}/admin/reports/{report_id}/resolve", json={"action": "ban", "note": "站外引流"},
                    headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["resolution"] == "ban"
    assert client.get(f"{API}/me", headers=a.headers).status_code == 401
    assert client.get(f"{API}/me", headers=b.headers).status_code == 200


def test_a_system_message_report_cannot_ban_anyone(client, factory, chat):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    group_id = chat.inquiry(buyer, listing_id)["id"]
    chat.set_status(listing_id, "reserved")
    notice = chat.history(buyer, group_id)["items"][-1]
    report_id = _report(client, buyer, notice["id"])["id"]
    r = client.post(f"{API}/admin/reports/{report_id}/resolve", json={"action": "ban"}, headers=admin.headers)
    assert r.status_code == 400 and "action" in r.get_json()["error"]["details"]["fields"]


def test_takedown_closes_the_listings_chats_without_telling_buyers_why_and_restore_reopens_them(
        client, factory, chat):
    admin, seller, a, b = factory.admin(), factory.user(), factory.user(), factory.user()
    listing_id = chat.listing(seller)
    groups = [chat.inquiry(buyer, listing_id)["id"] for buyer in (a, b)]
    r = client.post(f"{API}/admin/listings/{listing_id}/takedown", json={"reason": "疑似盗版商品"},
                    headers=admin.headers)
    assert r.status_code == 200
    for buyer, group_id in zip((a, b), groups):
        last = chat.history(buyer, group_id)["items"][-1]
        assert last["type"] == "system" and last["body"] == {"text": REMOVED}
        assert "盗版" not in last["body"]["text"]  # the reason is for the seller, not for every buyer
        assert client.get(f"{API}/groups/{group_id}", headers=buyer.headers).get_json()["read_only"] is True
        r = chat.send_raw(buyer, group_id, {"client_id": "late", "type": "txt", "body": {"text": "还在吗"}})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "read_only"
    assert client.post(f"{API}/admin/listings/{listing_id}/restore", headers=admin.headers).status_code == 200
    assert chat.history(a, groups[0])["items"][-1]["body"] == {"text": RESTORED}
    assert chat.send(a, groups[0], "又能聊了")["type"] == "txt"
