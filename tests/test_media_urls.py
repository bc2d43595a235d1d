"""Media URLs clients hand us (messages, listing images, avatars) must be this service's own uploads:
no other host, port, scheme or path (no SSRF or tracking pixels through image URLs)."""
from __future__ import annotations

import pytest

from marketplace.uploads.urls import MEDIA_KINDS
from tests.chat.helpers import ChatHelper
from tests.support.wsclient import WsClient

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
        # urlsplit raises on an unbalanced bracket in the host (found by Schemathesis: it was a 500)
        f"https://x[y{path}", f"http://[::1{path}", f"http://localhost]{path}",
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


@pytest.fixture
def media(scene) -> dict[str, str]:
    """One upload of each kind, by the scene's buyer."""
    chat, buyer = scene[0], scene[1]
    return {"image": chat.upload(buyer, "jpg"), "audio": chat.upload(buyer, "mp3"), "video": chat.upload(buyer, "mp4"),
            "other": chat.upload(buyer, "pdf")}


#: field -> (message type, the kind of upload it takes, body(url of the field, uploads by kind))
MESSAGE_FIELDS = {
    "img.url": ("img", "image", lambda u, m: {"url": u}),
    "audio.url": ("audio", "audio", lambda u, m: {"url": u, "duration_ms": 1000}),
    "video.url": ("video", "video", lambda u, m: {"url": u, "duration_ms": 1000}),
    "video.thumb_url": ("video", "image", lambda u, m: {"url": m["video"], "duration_ms": 1000, "thumb_url": u}),
    "file.url": ("file", None, lambda u, m: {"url": u, "name": "a.pdf", "size": 1}),
}


@pytest.mark.parametrize("field", MESSAGE_FIELDS)
def test_message_media_urls_must_be_our_uploads(scene, media, field):
    chat, buyer, _seller, group_id, _own = scene
    type_, kind, body = MESSAGE_FIELDS[field]
    own = media[kind or "other"]
    chat.send(buyer, group_id, type=type_, body=body(own, media))  # the real thing is accepted
    for url in _tricks(own):
        r = chat.send_raw(buyer, group_id, {"client_id": "evil", "type": type_, "body": body(url, media)})
        assert _refused(r, "body"), (field, url)
    assert len(chat.history(buyer, group_id)["items"]) == 1


def _wrong_kind(kind: str | None, media: dict[str, str]) -> list[str]:
    return [url for other, url in media.items() if kind is not None and other != kind]


@pytest.mark.parametrize("field", MESSAGE_FIELDS)
def test_a_media_message_names_an_upload_of_its_kind(scene, media, field):
    chat, buyer, _seller, group_id, _own = scene
    type_, kind, body = MESSAGE_FIELDS[field]
    for i, url in enumerate(_wrong_kind(kind, media)):
        r = chat.send_raw(buyer, group_id, {"client_id": f"kind-{i}", "type": type_, "body": body(url, media)})
        assert r.status_code == 400, (field, url)
        error = r.get_json()["error"]
        assert error["code"] == "validation_error"
        name = field.split(".")[1]
        [problem] = error["details"]["fields"]["body"][name]
        assert problem.startswith(f"Must be the URL of {MEDIA_KINDS[kind]}; this upload is "), problem
    if kind is None:  # a file is any upload
        for i, url in enumerate(media.values()):
            chat.send(buyer, group_id, type=type_, body=body(url, media), client_id=f"file-{i}")
    assert len(chat.history(buyer, group_id)["items"]) == (len(media) if kind is None else 0)


def test_a_media_message_of_the_wrong_kind_is_refused_over_the_socket(live_server, client, factory):
    chat = ChatHelper(client, factory)
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    audio = chat.upload(buyer, "mp3").rsplit("/", 1)[1]
    image = chat.upload(buyer, "png").rsplit("/", 1)[1]
    base = f"{live_server.url}/api/v1/uploads/"
    ws = WsClient(live_server.ws_url, buyer.token)
    try:
        ws.ready()
        ws.send({"op": "send", "client_id": "pic-1", "group_id": group_id, "type": "img",
                 "body": {"url": base + audio}})
        error = ws.op("error")
        assert error["client_id"] == "pic-1" and error["error"]["code"] == "validation_error"
        assert error["error"]["details"]["fields"]["body"]["url"] == [
            "Must be the URL of an image; this upload is audio/mpeg."]
        ws.send({"op": "send", "client_id": "voice-1", "group_id": group_id, "type": "audio",
                 "body": {"url": base + image, "duration_ms": 1500}})
        assert ws.op("error")["client_id"] == "voice-1"
        ws.send({"op": "send", "client_id": "voice-2", "group_id": group_id, "type": "audio",
                 "body": {"url": base + audio, "duration_ms": 1500}})
        assert ws.op("ack")["message"]["seq"] == 1  # nothing was stored before it
    finally:
        ws.close()


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


def test_listing_images_and_avatars_are_images(scene, media, client, factory):
    buyer = scene[1]
    for url in (media["audio"], media["video"], media["other"]):
        r = client.patch(f"{API}/me", json={"avatar_url": url}, headers=buyer.headers)
        assert _refused(r, "avatar_url"), url
        r = client.post(f"{API}/listings", headers=buyer.headers, json={
            "kind": "sale", "title": "二手书", "description": "好", "price_cents": 100, "category": "books",
            "condition": "good", "city": "上海", "images": [media["image"], url]})
        assert _refused(r, "images"), url
