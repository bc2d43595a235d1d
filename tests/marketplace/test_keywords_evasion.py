"""Keyword rules see through evasions: format characters (zero-width space, soft hyphen, word joiner),
compatibility forms (full width, circled, mathematical letters) and look-alikes from other scripts
(TR39 confusables) neither slip past a `block` rule in chat nor a `review` rule on listings; masks
cover the original characters; ASCII look-alikes (1/l, 0/O) stay apart."""
from __future__ import annotations

import pytest

from marketplace.moderation.rules import Matcher, Rule
from tests.chat.helpers import ChatHelper
from tests.marketplace.test_keywords import put_rules, word

EVASIONS = {
    "zero-width space": "刷\u200b单",
    "soft hyphen": "刷\u00ad单",
    "word joiner and BOM": "v\u2060x\ufeff",
    "Cyrillic ha": "v\u0445",
    "Greek nu": "\u03bdx",
    "full width": "ＶＸ",
    "circled": "ⓥⓧ",
    "mathematical bold": "𝐯𝐱",
    "zero-width joiner inside full width": "Ｖ\u200dＸ",
}
BLOCK_RULES = [word("刷单"), word("vx")]


@pytest.mark.parametrize("text", EVASIONS.values(), ids=EVASIONS.keys())
def test_matcher_sees_through_each_evasion(text):
    m = Matcher.build([Rule(r["pattern"], "word", "block", ("message",)) for r in BLOCK_RULES]
                      + [Rule("刷单", "word", "review", ("listing",)), Rule("vx", "word", "review", ("listing",)),
                         Rule(r"v\s*x", "regex", "block", ("message",))])
    assert m.blocks(f"加我 {text} 好吗")
    assert m.flags_listing("九成新", f"详情 {text}")


def test_rules_written_with_look_alikes_or_format_characters_match_plain_text():
    m = Matcher.build([Rule("ｖ\u200bх", "word", "block", ("message",)), Rule("加[微ｖ]信", "regex", "block", ("message",))])
    assert m.blocks("加我vx") and m.blocks("加v信")


def test_a_mask_covers_the_original_characters_of_an_evasive_match():
    m = Matcher.build([Rule("vx", "word", "mask", ("message",)), Rule("刷单", "word", "mask", ("message",))])
    assert m.masked("加我v\u200bх谢谢") == "加我***谢谢"
    assert m.masked("ＶＸ和刷\u00ad单") == "**和***"
    assert m.masked("正常聊天") == "正常聊天"


def test_ascii_look_alikes_and_unrelated_chinese_stay_apart():
    m = Matcher.build([Rule("l0l", "word", "block", ("message",)), Rule("微信", "word", "block", ("message",))])
    assert not m.blocks("電話 101 號") and not m.blocks("关注微博")
    assert m.blocks("L0L") and m.blocks("微\u200b信")


@pytest.mark.parametrize("text", EVASIONS.values(), ids=EVASIONS.keys())
def test_an_evasive_message_is_blocked_and_an_evasive_listing_held_for_review(client, factory, text):
    admin, seller, buyer = factory.admin(), factory.user(), factory.user()
    put_rules(client, admin, BLOCK_RULES + [word("刷单", "review"), word("vx", "review")])
    chat = ChatHelper(client, factory)
    group_id = chat.item_group(buyer, seller)
    r = chat.send_raw(buyer, group_id, {"client_id": "evade-1", "type": "txt", "body": {"text": f"加我 {text}"}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "content_blocked"
    assert chat.history(seller, group_id)["items"] == []
    assert factory.listing(seller, title=f"全新 {text}")["status"] == "pending_review"
    assert factory.listing(seller, title="全新台灯", description=f"联系 {text}")["status"] == "pending_review"
    assert factory.listing(seller, title="全新台灯")["status"] == "active"
