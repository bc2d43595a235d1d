"""Which files we accept, recognised from their own bytes (never their name or declared type): media
(images, audio including WeChat's SILK voice, video) shown inline, and documents (PDF, Office, plain
text, zip) only ever served as attachments."""
from __future__ import annotations

from dataclasses import dataclass

import filetype

# filetype looks at most at this many leading bytes.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Media:
    content_type: str
    extension: str
    #: a document: capped by FILE_MAX_BYTES, always downloaded (Content-Disposition: attachment)
    document: bool = False


# filetype's MIME type -> what we store and serve it as.
ALLOWED: dict[str, Media] = {
    "image/jpeg": Media("image/jpeg", "jpg"),
    "image/png": Media("image/png", "png"),
    "image/apng": Media("image/png", "png"),  # an animated PNG is a valid PNG
    "image/gif": Media("image/gif", "gif"),
    "image/webp": Media("image/webp", "webp"),
    "image/heic": Media("image/heic", "heic"),
    "audio/mpeg": Media("audio/mpeg", "mp3"),
    "audio/mp4": Media("audio/mp4", "m4a"),
    "audio/aac": Media("audio/aac", "aac"),
    "audio/x-wav": Media("audio/wav", "wav"),
    "audio/ogg": Media("audio/ogg", "ogg"),
    "audio/amr": Media("audio/amr", "amr"),
    "audio/x-flac": Media("audio/flac", "flac"),
    "video/mp4": Media("video/mp4", "mp4"),
    "video/x-m4v": Media("video/mp4", "mp4"),
    "video/quicktime": Media("video/quicktime", "mov"),
    "video/webm": Media("video/webm", "webm"),
    "video/3gpp": Media("video/3gpp", "3gp"),
}
# Documents a `file` message may carry; anything else (HTML, SVG, executables, other archives) is refused.
DOCUMENTS: dict[str, Media] = {
    "application/pdf": Media("application/pdf", "pdf", True),
    "application/zip": Media("application/zip", "zip", True),
    "application/msword": Media("application/msword", "doc", True),
    "application/vnd.ms-excel": Media("application/vnd.ms-excel", "xls", True),
    "application/vnd.ms-powerpoint": Media("application/vnd.ms-powerpoint", "ppt", True),
    **{mime: Media(mime, ext, True) for mime, ext in (
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
        ("application/vnd.oasis.opendocument.text", "odt"),
        ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
        ("application/vnd.oasis.opendocument.presentation", "odp"))},
}
TEXT = Media("text/plain", "txt", True)  # served with charset=utf-8 added
DOCUMENT_TYPES = frozenset({media.content_type for media in DOCUMENTS.values()} | {TEXT.content_type})
# WeChat's native voice: SILK v3, as the mini-program records it (an 0x02 byte first) or bare.
SILK = Media("audio/silk", "silk")
SILK_MAGIC = b"#!SILK_V3"
# Control characters that plain text does not hold (tab, line feed, form feed and carriage return do).
_BINARY = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"
HEIF = Media("image/heif", "heif")
THREE_GP = Media("video/3gpp", "3gp")
# HEIF brands filetype does not name (it only knows 'heic', and 'mif1'/'msf1' listing 'heic').
HEIF_BRANDS = {"mif1", "msf1", "heix", "heim", "heis", "hevc", "hevx"}

DESCRIPTION = "images (JPEG, PNG, GIF, WebP, HEIC/HEIF), audio (MP3, M4A/AAC, WAV, Ogg, AMR, FLAC, " \
              "WeChat SILK v3), video (MP4, MOV, WebM, 3GP) or documents (PDF, Word, Excel, PowerPoint, " \
              "OpenDocument, UTF-8 plain text, zip)"


def _ftyp_major_brand(head: bytes) -> str | None:
    """The major brand of an ISO base media file (MP4, MOV, 3GP, HEIF), else None."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    return head[8:12].decode("latin-1")


def sniff(head: bytes) -> Media | None:
    """The accepted media type of a file starting with `head`, or None."""
    if not head:
        return None
    if head.startswith(SILK_MAGIC) or head[1:1 + len(SILK_MAGIC)] == SILK_MAGIC:
        return SILK
    brand = _ftyp_major_brand(head)
    # filetype 1.2 misses real 3GP files (it expects 'ftyp' at offset 0) and calls them MP4.
    if brand is not None and brand.startswith("3gp"):
        return THREE_GP
    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if kind is not None:
        return ALLOWED.get(kind.mime) or DOCUMENTS.get(kind.mime)
    if brand in HEIF_BRANDS:
        return HEIF
    return TEXT if _plain_text(head[:SNIFF_BYTES]) else None


def _plain_text(head: bytes) -> bool:
    """UTF-8 text without control characters (a character cut at the end of the sniffed bytes is fine).

    Markup (HTML, SVG, XML: text starting with `<`) is refused outright, though text is only ever
    served as an attachment with nosniff: a browser must never be handed a page of ours to render.
    """
    if head.translate(None, _BINARY) != head or head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True
