"""Validating JSON against the schemas of our OpenAPI (3.0) and AsyncAPI documents, with jsonschema."""
from __future__ import annotations

from typing import Any

import jsonschema

from core.openapi import to_json_schema


def validator(document: dict, schema: dict) -> jsonschema.Draft7Validator:
    """A validator of `schema` whose `#/components/...` refs resolve inside `document` (both as JSON Schema)."""
    return jsonschema.Draft7Validator(to_json_schema({"components": document.get("components", {}), **schema}))


def errors(document: dict, schema: dict, instance: Any) -> list[str]:
    """Every way `instance` breaks `schema` (refs resolved in `document`), as readable lines."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(document, schema).iter_errors(instance)]
