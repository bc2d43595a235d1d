"""`file` messages carry uploaded documents, `audio` messages WeChat's SILK voice."""
from __future__ import annotations

from tests.marketplace.test_upload_documents import DOCUMENTS, VOICE
from tests.marketplace.test_uploads import post_file


def test_file_and_voice_messages_carry_them(client, factory, chat):
    seller, buyer = factory.user(), factory.user()
    group = chat.item_group(buyer, seller)
    doc = post_file(client, buyer, DOCUMENTS["pdf"][0]).get_json()
    sent = chat.send(buyer, group, type="file", body={"url": doc["url"], "name": "发票.pdf", "size": doc["size"]})
    assert sent["type"] == "file" and sent["body"]["name"] == "发票.pdf"
    voice = post_file(client, buyer, VOICE["silk_wechat"][0]).get_json()
    sent = chat.send(buyer, group, type="audio", body={"url": voice["url"], "duration_ms": 3200})
    assert sent["body"]["url"] == voice["url"]
