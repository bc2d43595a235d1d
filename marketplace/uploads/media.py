"""Which media we accept, recognised from the file's own bytes (never its name or declared type)."""
from __future__ import annotations

from dataclasses import dataclass

import filetype

# filetype looks at most at this many leading bytes.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Media:
    content_type: str
    extension: str


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
HEIF = Media("image/heif", "heif")
THREE_GP = Media("video/3gpp", "3gp")
# HEIF brands filetype does not name (it only knows 'heic', and 'mif1'/'msf1' listing 'heic').
HEIF_BRANDS = {"mif1", "msf1", "heix", "heim", "heis", "hevc", "hevx"}

DESCRIPTION = "images (JPEG, PNG, GIF, WebP, HEIC/HEIF), audio (MP3, M4A/AAC, WAV, Ogg, AMR, FLAC) " \
              "or video (MP4, MOV, WebM, 3GP)"


def _ftyp_major_brand(head: bytes) -> str | None:
    """The major brand of an ISO base media file (MP4, MOV, 3GP, HEIF), else None."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    return head[8:12].decode("latin-1")


def sniff(head: bytes) -> Media | None:
    """The accepted media type of a file starting with `head`, or None."""
    if not head:
        return None
    brand = _ftyp_major_brand(head)
    # filetype 1.2 misses real 3GP files (it expects 'ftyp' at offset 0) and calls them MP4.
    if brand is not None and brand.startswith("3gp"):
        return THREE_GP
    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if kind is not None:
        return ALLOWED.get(kind.mime)
    if brand in HEIF_BRANDS:
        return HEIF
    return None
