"""Input and output schemas of uploads."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload as FileField
from marshmallow import fields

from marketplace.uploads.media import DESCRIPTION
from marketplace.uploads.urls import upload_url


class UploadFormSchema(ma.Schema):
    file = FileField(required=True, metadata={"description": f"the file: {DESCRIPTION}; "
                                                             "its type is read from its content"})


class UploadSchema(ma.Schema):
    id = fields.Integer(required=True)
    url = fields.Function(lambda upload: upload_url(upload.name), required=True,
                          metadata={"description": "where the file is served; use it in listings, "
                                                   "avatars and messages"})
    name = fields.String(required=True)
    content_type = fields.String(required=True, metadata={"description": "sniffed from the content"})
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    created_at = fields.DateTime(required=True)
