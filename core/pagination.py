"""Page lists: `page`/`page_size` (with the old SDK's `pagenum`/`pagesize` aliases) and their envelope."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 100
#: far beyond any real list, and small enough that the offset always fits a BIGINT
MAX_PAGE = 100_000
DEFAULT_PAGE_SIZE = 20


class PageArgsSchema(ma.Schema):
    """Query arguments of every page list; subclass it to add filters."""

    page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE), metadata={"description": "1-based page"})
    page_size = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    pagenum = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE), load_only=True,
                             metadata={"description": "alias of page"})
    pagesize = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE), load_only=True,
                              metadata={"description": "alias of page_size"})

    @ma.post_load
    def _merge_aliases(self, data: dict, **_kw: Any) -> dict:
        alias_page, alias_size = data.pop("pagenum", None), data.pop("pagesize", None)
        data["page"] = data.get("page") or alias_page or 1
        data["page_size"] = data.get("page_size") or alias_size or DEFAULT_PAGE_SIZE
        return data


@dataclass
class Page:
    items: Sequence[Any]
    page: int
    page_size: int
    total: int


def paginate(session: Session, stmt: Select, *, page: int, page_size: int) -> Page:
    """Run `stmt` for one page and count the whole result."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)).all()
    return Page(items=rows, page=page, page_size=page_size, total=total or 0)


_page_schemas: dict[str, type[ma.Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The `{items, page, page_size, total}` envelope schema for `item_schema`."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (ma.Schema,), {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "page_size": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        })
    return _page_schemas[name]
