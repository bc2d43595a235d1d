"""The served OpenAPI document, refined past what the schemas generate: rules, error codes, links, examples.

Each package registers one refiner (a function editing the document dict) with `add_refiner`;
the document is built once per app and served as is. The helpers below are what refiners use:
rules the schema cannot state go into the operation's description, with the status and code
each comes back as; links let a client (or a fuzzer) chain create -> read -> update.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask

PREFIX = "/api/v1"
REFINERS_KEY = "openapi_refiners"
DOCUMENT_KEY = "openapi_document"
ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/Error"}
RULE_CODES, RULE_FIELDS = "x-rule-codes", "x-rule-fields"
RULES_HEADING = "Rules the schema cannot state (refused with the status and code given):"

Refiner = Callable[[dict], None]


@dataclass(frozen=True)
class Rule:
    """One rule of an operation the schema cannot state: what it is, and how a breach is answered
    (status, code, and the request fields `details.fields` names)."""

    status: int
    code: str
    text: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: `name` on the `status` response of the source goes to `target` ("METHOD /path")
    with each of `parameters` (target parameter -> runtime expression such as `$response.body#/id`)."""

    name: str
    target: str
    parameters: dict[str, str] = field(default_factory=dict)
    status: int | None = None


def add_refiner(app: Flask, refiner: Refiner) -> None:
    """Run `refiner` on `app`'s document when it is first served."""
    app.extensions.setdefault(REFINERS_KEY, []).append(refiner)


def build_document(app: Flask, spec: dict) -> dict:
    """`spec` (apispec's dict) with every registered refiner applied, built once per app."""
    document = app.extensions.get(DOCUMENT_KEY)
    if document is None:
        document = copy.deepcopy(spec)
        for refiner in app.extensions.get(REFINERS_KEY, []):
            refiner(document)
        app.extensions[DOCUMENT_KEY] = document
    return document


def operation(document: dict, key: str) -> dict:
    """The operation "METHOD /path" (path without the /api/v1 prefix); KeyError names a missing one."""
    method, path = key.split(" ", 1)
    try:
        return document["paths"][PREFIX + path][method.lower()]
    except KeyError:
        raise KeyError(f"no operation {key} in the document") from None


def _pointer(key: str) -> str:
    method, path = key.split(" ", 1)
    return "#/paths/" + (PREFIX + path).replace("~", "~0").replace("/", "~1") + "/" + method.lower()


def add_rules(document: dict, rules: dict[str, list[Rule]]) -> None:
    """Append each operation's rules to its description and list their codes under their statuses."""
    for key, items in rules.items():
        op = operation(document, key)
        lines = [f"- {rule.text} ({rule.status} `{rule.code}`)" for rule in items]
        op["description"] = "\n\n".join(filter(None, [op.get("description"), RULES_HEADING, "\n".join(lines)]))
        by_status: dict[int, list[Rule]] = {}
        for rule in items:
            by_status.setdefault(rule.status, []).append(rule)
        for status, same in by_status.items():
            codes = sorted({rule.code for rule in same})
            listed = ", ".join(f"`{code}`" for code in codes)
            op["responses"][str(status)] = {
                "description": f"Refused: {listed} (see the rules above), or the input does not match the schema."
                if status == 400 else f"Refused: {listed} (see the rules above).",
                "content": {"application/json": {"schema": dict(ERROR_SCHEMA_REF)}},
                # Machine-readable: the codes and fields a schema-valid request can be refused with.
                RULE_CODES: codes,
                RULE_FIELDS: sorted({name for rule in same for name in rule.fields})}


def add_links(document: dict, links: dict[str, list[Link]]) -> None:
    """Add the links of each source operation ("METHOD /path") to its success response (or `link.status`)."""
    for source, items in links.items():
        op = operation(document, source)
        for link in items:
            operation(document, link.target)  # the target must exist
            status = str(link.status) if link.status else next(s for s in op["responses"] if s.startswith("2"))
            response = op["responses"][status]
            response.setdefault("links", {})[link.name] = {
                "operationRef": _pointer(link.target), "parameters": dict(link.parameters)}


def set_example(document: dict, key: str, status: int, example: Any) -> None:
    """Give the JSON response `status` of operation `key` an example (shown by /docs)."""
    response = operation(document, key)["responses"][str(status)]
    response["content"]["application/json"]["example"] = example


def set_path_parameter(document: dict, path: str, name: str, schema: dict[str, Any]) -> None:
    """Replace the schema of path parameter `name` of every operation under `path`."""
    item = document["paths"][PREFIX + path]
    for holder in [item, *[op for op in item.values() if isinstance(op, dict)]]:
        for parameter in holder.get("parameters", []) if isinstance(holder, dict) else []:
            if isinstance(parameter, dict) and parameter.get("in") == "path" and parameter.get("name") == name:
                parameter["schema"] = dict(schema)


def to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema (draft 7): `nullable` becomes a null type; OpenAPI-only
    keys (discriminator, example, our x- extensions) are dropped; `$ref`s are kept as they are."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items()
           if key not in ("nullable", "discriminator", "example", RULE_CODES, RULE_FIELDS)}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out
