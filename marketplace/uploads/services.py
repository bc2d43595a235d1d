"""Storing uploads (sniffed, size-capped, streamed to disk) and finding them again."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from core.db import db
from core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from marketplace.models import Upload, User
from marketplace.uploads.media import (
    DESCRIPTION,
    DOCUMENT_TYPES,
    SNIFF_BYTES,
    Media,
    sniff,
)
from marketplace.uploads.quota import QuotaExceeded, bytes_left, charge, daily_quota
from marketplace.uploads.urls import NAME_RE

CHUNK_BYTES = 64 * 1024
TEMP_PREFIX = ".upload-"  # never matches NAME_RE, so a half-written file is never served


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _require_media(head: bytes) -> Media:
    media = sniff(head)
    if media is None:
        raise UnsupportedMediaType(f"Only {DESCRIPTION} can be uploaded.",
                                   details={"accepted": DESCRIPTION})
    return media


def _copy_capped(stream: BinaryIO, out: BinaryIO, media_limit: int, document_limit: int) -> tuple[Media, int]:
    """Copy `stream` to `out` chunk by chunk; refuse it as soon as it is not an accepted type or exceeds
    its type's limit (media: `media_limit`, documents: `document_limit`)."""
    head = b""
    media: Media | None = None
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if media is None:
            head += chunk[:SNIFF_BYTES - len(head)]
            if len(head) >= SNIFF_BYTES:
                media = _require_media(head)
        _check_size(size, media, media_limit, document_limit)
        out.write(chunk)
    media = media or _require_media(head)
    _check_size(size, media, media_limit, document_limit)
    return media, size


def _check_size(size: int, media: Media | None, media_limit: int, document_limit: int) -> None:
    if media is None:  # not sniffed yet: the larger limit holds until it is
        limit = max(media_limit, document_limit)
    else:
        limit = document_limit if media.document else media_limit
    if size > limit:
        raise PayloadTooLarge(f"Uploads of this type are limited to {limit} bytes.", details={"limit": limit})


def _copy_within(stream: BinaryIO, out: BinaryIO, media_limit: int, document_limit: int,
                 left: int | None) -> tuple[Media, int]:
    """`_copy_capped` to the type's size cap, or to what is left of the daily quota when that is less (429 then)."""
    if left is None or left >= max(media_limit, document_limit):
        return _copy_capped(stream, out, media_limit, document_limit)
    try:
        return _copy_capped(stream, out, min(media_limit, left), min(document_limit, left))
    except PayloadTooLarge as exc:
        if exc.details.get("limit") != left:  # the type's own cap, below the quota
            raise
        raise QuotaExceeded(quota=daily_quota(), used=daily_quota() - left) from None


def _unlink(path: Path | str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def store_upload(*, owner: User, stream: BinaryIO, max_bytes: int | None = None) -> Upload:
    """Store one media file or document for `owner`: its row and its file exist both or neither.

    Media are capped by UPLOAD_MAX_BYTES, documents by FILE_MAX_BYTES (`max_bytes` caps both); counts
    against the owner's daily byte quota (429 `upload_quota_exceeded` past it)."""
    config = current_app.config
    media_limit = config["UPLOAD_MAX_BYTES"] if max_bytes is None else max_bytes
    document_limit = config["FILE_MAX_BYTES"] if max_bytes is None else max_bytes
    left = bytes_left(db.session, owner.id)
    db.session.rollback()  # the read above must not keep a transaction (and its connection) while streaming
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
    final_path: Path | None = None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # mkstemp's 0600 would hide it from a front web server
            media, size = _copy_within(stream, out, media_limit, document_limit, left)
        name = f"{uuid.uuid4().hex}.{media.extension}"
        upload = Upload(owner_id=owner.id, name=name, content_type=media.content_type, size=size)
        with db.transaction() as s:
            charge(s, owner_id=owner.id, size=size)
            # Into place first, then the row: whatever fails after the move removes the file.
            os.replace(temp_path, directory / name)
            final_path = directory / name
            s.add(upload)
        return upload
    except BaseException:
        _unlink(temp_path)
        if final_path is not None:  # moved into place, but the row was not committed
            _unlink(final_path)
        raise


def get_upload(*, name: str) -> Upload:
    """The upload stored under `name`; 404 for unknown or malformed names."""
    upload = None
    if NAME_RE.match(name):
        upload = db.session.scalar(select(Upload).where(Upload.name == name))
    if upload is None:
        raise NotFound("No such upload.")
    return upload


def is_document(upload: Upload) -> bool:
    """Whether an upload is a document (served only as an attachment), by the type it was stored as."""
    return upload.content_type in DOCUMENT_TYPES
