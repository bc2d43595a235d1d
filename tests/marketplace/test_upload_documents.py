"""Documents for `file` messages (PDF, Office, plain text, zip) and WeChat voice (SILK v3, AMR) for
`audio`: sniffed from the content, capped by their own limit, documents served only as attachments."""
from __future__ import annotations

import io
import zipfile
from urllib.parse import urlsplit

import pytest

from tests.marketplace.test_uploads import (
    PAD,
    PNG,
    assert_error,
    post_file,
    stored_files,
)


def office_zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buf.getvalue()


DOCUMENTS = {
    "pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + PAD, "application/pdf", "pdf"),
    "zip": (office_zip("readme.txt", "photos/1.jpg"), "application/zip", "zip"),
    "docx": (office_zip("[Content_Types].xml", "word/document.xml"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": (office_zip("[Content_Types].xml", "xl/workbook.xml"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "text": ("纯文本 hello 🐱\r\n\t第二行".encode() * 50, "text/plain", "txt"),
}
VOICE = {
    "silk_wechat": (b"\x02#!SILK_V3" + PAD, "audio/silk", "silk"),
    "silk": (b"#!SILK_V3" + PAD, "audio/silk", "silk"),
    "amr": (b"#!AMR\n" + PAD, "audio/amr", "amr"),
}


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_documents_are_stored_and_served_only_as_attachments(client, factory, kind):
    content, content_type, ext = DOCUMENTS[kind]
    r = post_file(client, factory.user(), content, filename="报价单.html", content_type="text/html")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["content_type"], body["size"]) == (content_type, len(content)) and body["name"].endswith("." + ext)
    served = client.get(urlsplit(body["url"]).path)
    assert served.status_code == 200 and served.data == content
    assert served.headers["Content-Type"] == (content_type if kind != "text" else "text/plain; charset=utf-8")
    assert served.headers["Content-Disposition"] == f'attachment; filename="{body["name"]}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("kind", sorted(VOICE))
def test_wechat_voice_is_audio_shown_inline(client, factory, kind):
    content, content_type, ext = VOICE[kind]
    r = post_file(client, factory.user(), content, filename="voice.mp3", content_type="audio/mpeg")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["content_type"] == content_type and r.get_json()["name"].endswith("." + ext)
    served = client.get(urlsplit(r.get_json()["url"]).path)
    assert served.headers["Content-Disposition"].startswith("inline;")


def test_media_keep_their_cap_and_documents_have_their_own(client, factory, monkeypatch):
    monkeypatch.setitem(client.application.config, "UPLOAD_MAX_BYTES", 100_000)
    monkeypatch.setitem(client.application.config, "FILE_MAX_BYTES", 200_000)
    alice = factory.user()
    pdf = DOCUMENTS["pdf"][0]
    exact_pdf = pdf + b"\0" * (200_000 - len(pdf))
    assert post_file(client, alice, exact_pdf).status_code == 201
    before = stored_files(client)
    error = assert_error(post_file(client, alice, exact_pdf + b"\0"), 413, "payload_too_large")
    assert error["details"]["limit"] == 200_000
    big_png = PNG + b"\0" * (150_000 - len(PNG))  # under the document cap, over the media cap
    assert assert_error(post_file(client, alice, big_png), 413, "payload_too_large")["details"]["limit"] == 100_000
    assert stored_files(client) == before

