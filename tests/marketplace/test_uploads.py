"""Uploads: sniffed by content, size-capped while streaming, stored atomically, served back safely."""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import db
from marketplace.models import Upload, User
from marketplace.uploads import services
from marketplace.uploads.urls import NAME_RE

URL = "/api/v1/uploads"
PAD = bytes(range(256)) * 4


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


PNG = png()
ACCEPTED = {
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + PAD, "image/jpeg", "jpg"),
    "png": (PNG, "image/png", "png"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + PAD, "image/gif", "gif"),
    "webp": (b"RIFF\x24\x04\x00\x00WEBPVP8 " + PAD, "image/webp", "webp"),
    "heic": (ftyp(b"heic", b"mif1", b"heic") + PAD, "image/heic", "heic"),
    "heif": (ftyp(b"mif1", b"mif1", b"heix") + PAD, "image/heif", "heif"),
    "mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + PAD, "audio/mpeg", "mp3"),
    "m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom") + PAD, "audio/mp4", "m4a"),
    "aac": (b"\xff\xf1\x50\x80\x02\x1f\xfc" + PAD, "audio/aac", "aac"),
    "wav": (b"RIFF\x24\x04\x00\x00WAVEfmt " + PAD, "audio/wav", "wav"),
    "ogg": (b"OggS\x00\x02\x00\x00" + PAD, "audio/ogg", "ogg"),
    "amr": (b"#!AMR\n" + PAD, "audio/amr", "amr"),
    "flac": (b"fLaC\x00\x00\x00\x22" + PAD, "audio/flac", "flac"),
    "mp4": (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41") + PAD, "video/mp4", "mp4"),
    "mov": (ftyp(b"qt  ", b"qt  ") + PAD, "video/quicktime", "mov"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
             b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + PAD, "video/webm", "webm"),
    "3gp": (ftyp(b"3gp4", b"isom", b"3gp4") + PAD, "video/3gpp", "3gp"),
}
REJECTED = {
    "html": b"<!doctype html><html><script>alert(document.cookie)</script></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "html_after_blanks": b"\xef\xbb\xbf  \n<html><script>alert(1)</script></html>",
    "binary_text": "纯文本".encode() + b"\x00\x01" + PAD,
    "elf": b"\x7fELF\x02\x01\x01\x00" + PAD,
    "exe": b"MZ\x90\x00\x03\x00\x00\x00" + PAD,
    "empty": b"",
    "bmp": b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00" + PAD,
    "avif": ftyp(b"avif", b"mif1", b"avif") + PAD,
    "mkv": b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska" + PAD,
}


def post_file(client, actor, content: bytes, filename: str = "photo.jpg",
              content_type: str = "image/jpeg", field: str = "file", **kwargs):
    return client.post(URL, headers=actor.headers if actor else {}, content_type="multipart/form-data",
                       data={field: (io.BytesIO(content), filename, content_type)}, **kwargs)


def stored_files(client) -> set[str]:
    return set(os.listdir(client.application.config["UPLOAD_DIR"]))


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    assert r.get_json()["error"]["code"] == code
    return r.get_json()["error"]


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_accepted_media_is_stored_and_served_back(client, factory, kind):
    content, content_type, ext = ACCEPTED[kind]
    r = post_file(client, factory.user(), content, filename="x.bin", content_type="application/octet-stream")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["content_type"], body["size"]) == (content_type, len(content))
    assert NAME_RE.match(body["name"]) and body["name"].endswith("." + ext)
    assert body["url"].endswith(f"{URL}/{body['name']}")
    served = client.get(urlsplit(body["url"]).path)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == content_type
    assert served.data == content


def test_type_comes_from_content_not_from_name_or_declared_type(client, factory):
    r = post_file(client, factory.user(), PNG, filename="照片🐱.html", content_type="text/html")
    assert r.status_code == 201
    assert r.get_json()["content_type"] == "image/png" and r.get_json()["name"].endswith(".png")


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_non_media_is_415_and_leaves_nothing_behind(client, factory, kind):
    alice = factory.user()
    before = stored_files(client)
    error = assert_error(post_file(client, alice, REJECTED[kind], filename="photo.jpg",
                                   content_type="image/jpeg"), 415, "unsupported_media_type")
    assert "image" in error["message"]
    assert stored_files(client) == before
    with client.application.app_context():
        assert db.session.scalar(select(Upload)) is None


def test_upload_records_owner_name_type_and_size(client, factory, ctx):
    alice = factory.user()
    body = post_file(client, alice, PNG).get_json()
    row = db.session.scalar(select(Upload).where(Upload.id == body["id"]))
    assert (row.owner_id, row.name, row.content_type, row.size) == (alice.id, body["name"], "image/png", len(PNG))
    path = Path(client.application.config["UPLOAD_DIR"]) / row.name
    assert path.read_bytes() == PNG


def test_upload_requires_a_valid_token(client, factory):
    before = stored_files(client)
    assert_error(post_file(client, None, PNG), 401, "unauthorized")
    r = client.post(URL, headers={"Authorization": "Bearer nope"}, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(PNG), "a.png")})
    assert_error(r, 401, "unauthorized")
    assert stored_files(client) == before


def test_missing_file_field_is_400_naming_the_field(client, factory):
    alice = factory.user()
    error = assert_error(client.post(URL, headers=alice.headers, data={"note": "你好"},
                                     content_type="multipart/form-data"), 400, "validation_error")
    assert "file" in error["details"]["fields"]
    error = assert_error(post_file(client, alice, PNG, field="image"), 400, "validation_error")
    assert {"file", "image"} <= set(error["details"]["fields"])
    assert_error(client.post(URL, headers=alice.headers, json={"file": "aGVsbG8="}), 400, "validation_error")


def test_upload_at_the_cap_is_accepted_one_byte_more_is_413(client, factory, monkeypatch):
    monkeypatch.setitem(client.application.config, "UPLOAD_MAX_BYTES", 100_000)
    alice = factory.user()
    exact = PNG + b"\0" * (100_000 - len(PNG))
    assert post_file(client, alice, exact).status_code == 201
    before = stored_files(client)
    error = assert_error(post_file(client, alice, exact + b"\0"), 413, "payload_too_large")
    assert error["details"]["limit"] == 100_000
    assert stored_files(client) == before


def test_default_cap_refuses_a_file_just_over_ten_megabytes(client, factory):
    assert client.application.config["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024
    before = stored_files(client)
    big = PNG + b"\0" * (10 * 1024 * 1024 + 1 - len(PNG))
    assert_error(post_file(client, factory.user(), big), 413, "payload_too_large")
    assert stored_files(client) == before


def test_body_over_max_content_length_is_413_json_not_html(client, factory):
    alice = factory.user()
    huge = PNG + b"\0" * client.application.config["MAX_CONTENT_LENGTH"]
    assert_error(post_file(client, alice, huge), 413, "payload_too_large")
    # The same body streamed without a Content-Length is cut off while it is read.
    r = client.post(URL, headers=alice.headers, content_type="multipart/form-data; boundary=b",
                    input_stream=io.BytesIO(b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
                                            b"filename=\"a.png\"\r\n\r\n" + huge + b"\r\n--b--\r\n"),
                    environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": "",
                                       "HTTP_TRANSFER_ENCODING": "chunked"})
    assert r.request.content_length is None
    assert_error(r, 413, "payload_too_large")


class EndlessPng(io.RawIOBase):
    """A PNG that never ends, counting what is read from it."""

    def __init__(self) -> None:
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = (PNG + b"\0" * size)[:size] if self.consumed == 0 else b"\0" * size
        self.consumed += len(chunk)
        return chunk


def test_oversized_stream_is_refused_without_reading_it_all(client, factory, ctx):
    alice = factory.user()  # before touching db.session: each request ends by removing the session
    owner = db.session.get(User, alice.id)
    before = stored_files(client)
    stream = EndlessPng()
    with pytest.raises(services.PayloadTooLarge):
        services.store_upload(owner=owner, stream=stream, max_bytes=200_000)
    assert stream.consumed <= 200_000 + services.CHUNK_BYTES
    assert stored_files(client) == before


def test_failed_database_write_removes_the_file(client, ctx):
    before = stored_files(client)
    ghost = User(id=987654321, username="ghost", password_hash="x", nickname="ghost")
    with pytest.raises(IntegrityError):
        services.store_upload(owner=ghost, stream=io.BytesIO(PNG))
    assert stored_files(client) == before
    assert db.session.scalar(select(Upload)) is None


def test_served_file_is_cacheable_inert_and_conditional(client, factory):
    path = urlsplit(post_file(client, factory.user(), PNG).get_json()["url"]).path
    r = client.get(path)  # anonymous: listing images are public
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("inline")
    assert r.headers["Content-Security-Policy"] == "sandbox"
    cache = r.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "public" in cache
    etag = r.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    part = client.get(path, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == PNG[:8]
    head = client.head(path)
    assert head.status_code == 200 and head.data == b"" and head.headers["Content-Type"] == "image/png"


BAD_NAMES = ["..%2f..%2fsecret.txt", "..%2fsecret.txt", "%2e%2e%2fsecret.txt", "..%5csecret.txt",
             "..%252fsecret.txt", "secret.txt", ".upload-x", "%2e%2e", "..",
             "0123456789abcdef0123456789abcdef.png%0a", "0123456789ABCDEF0123456789ABCDEF.png",
             "0123456789abcdef0123456789abcdef.png", "0123456789abcdef0123456789abcdef.pngxxx"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unknown_or_malformed_names_are_404_never_traversal(client, name):
    upload_dir = Path(client.application.config["UPLOAD_DIR"])
    (upload_dir.parent / "secret.txt").write_text("TOP-SECRET")
    (upload_dir / "secret.txt").write_text("TOP-SECRET")
    (upload_dir / "0123456789abcdef0123456789abcdef.png").write_bytes(b"TOP-SECRET")  # no row
    r = client.get(f"{URL}/{name}")
    assert_error(r, 404, "not_found")
    assert b"TOP-SECRET" not in r.data


def test_row_whose_file_vanished_is_404_in_error_shape(client, factory):
    body = post_file(client, factory.user(), PNG).get_json()
    os.unlink(Path(client.application.config["UPLOAD_DIR"]) / body["name"])
    assert_error(client.get(urlsplit(body["url"]).path), 404, "not_found")


def test_uploaded_url_is_accepted_as_avatar_and_foreign_urls_are_not(client, factory):
    alice = factory.user()
    url = post_file(client, alice, PNG).get_json()["url"]
    r = client.patch("/api/v1/me", headers=alice.headers, json={"avatar_url": url})
    assert r.status_code == 200 and r.get_json()["avatar_url"] == url
    r = client.patch("/api/v1/me", headers=alice.headers, json={"avatar_url": "https://evil.example/a.png"})
    assert_error(r, 400, "validation_error")
