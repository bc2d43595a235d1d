"""Validating JSON against the schemas of our OpenAPI (3.0) and AsyncAPI documents, with jsonschema."""
from __future__ import annotations

from typing import Any

import jsonschema


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null type, refs stay as they are."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items()
           if key not in ("nullable", "discriminator", "example", "x-rule-codes", "x-rule-fields")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and ("anyOf" in out or "oneOf" in out or "allOf" in out or "$ref" in out):
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def validator(document: dict, schema: dict) -> jsonschema.Draft7Validator:
    """A validator of `schema` whose `#/components/...` refs resolve inside `document` (both converted)."""
    root = to_json_schema({**document, **schema})
    return jsonschema.Draft7Validator(root)


def errors(document: dict, schema: dict, instance: Any) -> list[str]:
    """Every way `instance` breaks `schema` (refs resolved in `document`), as readable lines."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(document, schema).iter_errors(instance)]
