"""Contact details in message text (`screening.has_contact`): mainland mobiles and WeChat ids, in half- or
full-width forms; its shortcuts (text with nothing to fold, text no WeChat pattern can start in) give the
patterns' own answers."""
from __future__ import annotations

import random

import pytest

from chat.messages.screening import PHONE, WECHAT, has_contact
from marketplace.moderation.rules import _FOLD, fold


@pytest.mark.parametrize("text", [
    "13812345678", "我的电话 138-1234-5678", "+86 138 1234 5678", "8613812345678", "１３８１２３４５６７８",
    "加我微信 abc_123", "vx:paipai88", "WX paipai88", "Weixin号是paipai88", "wechat: Shop-2024", "v信 paipai88",
    "ＶＸ：ｐａｉｐａｉ８８",
])
def test_contact_details_are_found(text):
    assert has_contact(text)


@pytest.mark.parametrize("text", [
    "", "你好,还在吗?", "12 1723456789012345 你好", "123812345678", "1381234567", "订单 13812345678901",
    "vx: ab", "xwx paipai88", "价格可议 wx", "微信", "X Æ A-12",
])
def test_text_without_contact_details_is_not_flagged(text):
    assert not has_contact(text)


def test_the_shortcuts_answer_as_the_patterns_do_on_random_text():
    alphabet = list("0123456789 -.+86信微vVxXwWeEiInNcChHaAtT号:是_你好") + ["１", "３", "８", "ｗ", "ｘ", "Ｘ", "\u3000", "："]
    rng = random.Random(20261204)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        folded = text.translate(_FOLD)
        assert fold(text) == folded
        assert has_contact(text) == (PHONE.search(folded) is not None or WECHAT.search(folded) is not None), text
