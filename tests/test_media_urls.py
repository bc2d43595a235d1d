"""Media URLs clients hand us (messages, listing images, avatars) must be this service's own uploads:
no other host, port, scheme or path (no SSRF or tracking pixels through image URLs)."""
from __future__ import annotations

import pytest

from tests.chat.helpers import ChatHelper

API = "/api/v1"


def _tricks(own: str) -> list[str]:
    """Ways to dress another address up as `own` (an existing upload's URL on http://localhost)."""
    path = own.removeprefix("http://localhost")
    name = path.rsplit("/", 1)[1]
    return [
        f"https://evil.example{path}", f"http://localhost@evil.example{path}", f"http://evil.example\\@localhost{path}",
        f"//evil.example{path}", f"http://localhost:8080{path}", f"http://127.0.0.1:6379{path}",
        f"http://[::1]{path}", f"ftp://localhost{path}", f"gopher://localhost{path}", "file:///etc/passwd",
        "javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", f"{own}?size=big", f"{own}#x",
        f"http://localhost/api/v1/uploads/../users/{name}", f"http://localhost/api/v1/uploads/x/{name}",
        f"http://localhost/api/v1/uploadsx/{name}", f"{own}/", f"{own}\n", f" {own}", f"\t{own}",
        own.replace("localhost", "local\thost"), own.replace("uploads", "up\nloads"), f"{own}\x00",
    ]


def _refused(r, field: str) -> bool:
    """400 naming `field` (or, for a NUL character, the body refused as invalid JSON)."""
    error = r.get_json()["error"]
    return r.status_code == 400 and (error["code"] == "invalid_json" or field in error["details"]["fields"])


@pytest.fixture
def scene(client, factory):
    chat = ChatHelper(client, factory)
    buyer, seller = factory.user(), factory.user()
    return chat, buyer, seller, chat.item_group(buyer, seller), chat.upload(buyer)


MESSAGE_FIELDS = {
    "img.url": ("img", lambda u, own: {"url": u}),
    "audio.url": ("audio", lambda u, own: {"url": u, "duration_ms": 1000}),
    "video.url": ("video", lambda u, own: {"url": u, "duration_ms": 1000}),
    "video.thumb_url": ("video", lambda u, own: {"url": own, "duration_ms": 1000, "thumb_url": u}),
    "file.url": ("file", lambda u, own: {"url": u, "name": "a.pdf", "size": 1}),
}


@pytest.mark.parametrize("field", MESSAGE_FIELDS)
def test_message_media_urls_must_be_our_uploads(scene, field):
    chat, buyer, _seller, group_id, own = scene
    type_, body = MESSAGE_FIELDS[field]
    chat.send(buyer, group_id, type=type_, body=body(own, own))  # the real thing is accepted
    for url in _tricks(own):
        r = chat.send_raw(buyer, group_id, {"client_id": "evil", "type": type_, "body": body(url, own)})
        assert _refused(r, "body"), (field, url)
    assert len(chat.history(buyer, group_id)["items"]) == 1


def test_listing_images_and_avatars_must_be_our_uploads(scene, client, factory):
    _chat, buyer, _seller, _group_id, own = scene
    assert client.patch(f"{API}/me", json={"avatar_url": own}, headers=buyer.headers).status_code == 200
    factory.listing(buyer, images=[own])
    for url in _tricks(own):
        r = client.patch(f"{API}/me", json={"avatar_url": url}, headers=buyer.headers)
        assert _refused(r, "avatar_url"), url
        r = client.post(f"{API}/listings", headers=buyer.headers, json={
            "kind": "sale", "title": "二手书", "description": "好", "price_cents": 100, "category": "books",
            "condition": "good", "city": "上海", "images": [own, url]})
        assert _refused(r, "images"), url
