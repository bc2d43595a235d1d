"""HTTP routes of uploads: store a media file, serve it back."""
from __future__ import annotations

import marshmallow as ma
from flask import send_from_directory

from core.api import Blueprint
from core.auth import auth_required, current_user
from core.limits import accepts_large_body
from core.ratelimit import by_user, rate_limited
from marketplace.uploads import services
from marketplace.uploads.schemas import UploadFormSchema, UploadSchema

bp = Blueprint("uploads", __name__, description="Uploads: images, audio, video and documents")

ONE_YEAR = 365 * 24 * 3600
BINARY = {"type": "string", "format": "binary"}


@bp.post("/uploads")
@accepts_large_body
@auth_required
@rate_limited("upload", by=by_user)
@bp.arguments(UploadFormSchema, location="files", unknown=ma.RAISE)
@bp.response(201, UploadSchema)
def create_upload(files):
    """Upload an image, audio (WeChat SILK and AMR included), video or document (multipart field `file`).

    Documents (PDF, Office, plain text, zip) go in `file` messages, up to FILE_MAX_BYTES; media up to
    UPLOAD_MAX_BYTES. The type is sniffed from the content (415 otherwise). Limited per user
    (`RATE_LIMIT_UPLOAD`, 429 `rate_limited`) and to `UPLOAD_DAILY_BYTES` per rolling 24 hours
    (429 `upload_quota_exceeded`). Files nothing references are deleted after `UPLOAD_SWEEP_AFTER_S`.
    """
    return services.store_upload(owner=current_user(), stream=files["file"].stream)


@bp.get("/uploads/<name>")
@bp.response(200, BINARY, content_type="application/octet-stream",
             description="The file, with the content type it was stored as; supports ETag and Range.")
@bp.alt_response(304, description="Not modified (If-None-Match / If-Modified-Since).")
@bp.alt_response(206, description="Partial content (Range).")
def get_upload(name: str):
    """Download an uploaded file (public: listing images are shown to everyone).

    Documents (PDF, Office, text, zip) come only as an attachment, never shown inline.
    """
    upload = services.get_upload(name=name)
    response = send_from_directory(services.upload_dir(), upload.name, mimetype=upload.content_type,
                                   max_age=ONE_YEAR, conditional=True, etag=True)
    # A stored name never changes content: cache forever, never sniff, never run.
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    disposition = "attachment" if services.is_document(upload) else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{upload.name}"'
    response.headers["Content-Security-Policy"] = "sandbox"
    return response
