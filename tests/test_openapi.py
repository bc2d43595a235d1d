"""The OpenAPI document: well-formed, complete (every served route), and honest about auth and errors."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

import config
from app import create_app
from core.api import Blueprint, api
from core.db import db

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch"}
NOT_OPERATIONS = {"api-docs.openapi_json"}
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def spec(client) -> dict:
    r = client.get(f"{PREFIX}/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def resolve(spec: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def deref(spec: dict, node: dict) -> dict:
    return resolve(spec, node["$ref"]) if "$ref" in node else node


def served_operations(app) -> dict[tuple[str, str], object]:
    """(OpenAPI path, method) -> URL rule of every route the app serves under /api/v1."""
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") and rule.endpoint not in NOT_OPERATIONS:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served[(path, method.lower())] = rule
    return served


def test_document_is_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["paths"], "no paths documented"
    refs = re.findall(r"'\$ref': '([^']+)'", repr(spec))
    assert refs
    for ref in refs:
        resolve(spec, ref)


def test_every_operation_is_under_the_prefix_summarised_and_answered(spec):
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        assert path.startswith(PREFIX + "/"), where
        assert isinstance(op.get("summary"), str) and op["summary"].strip(), f"{where} has no summary"
        codes = set(op["responses"])
        assert any(c[0] in "23" for c in codes if c != "default"), f"{where} documents no success"
        assert "default" in codes, where
        for name in re.findall(r"{(\w+)}", path):
            params = spec["paths"][path].get("parameters", []) + op.get("parameters", [])
            declared = [deref(spec, p) for p in params]
            assert any(p["in"] == "path" and p["name"] == name and p["required"] for p in declared), \
                f"{where}: path parameter {name} undeclared"


def test_every_error_response_uses_the_error_schema(spec):
    for path, method, op in operations(spec):
        for code, response in op["responses"].items():
            if code == "default" or code[0] in "45":
                content = deref(spec, response)["content"]
                assert content["application/json"]["schema"] == {"$ref": ERROR_REF}, f"{method} {path} {code}"
    error = spec["components"]["schemas"]["Error"]
    detail = deref(spec, error["properties"]["error"])
    assert set(detail["required"]) == {"code", "message", "details"}


def test_spec_documents_exactly_the_routes_the_app_serves(clean_app, spec):
    served = set(served_operations(clean_app))
    documented = {(path, method) for path, method, _ in operations(spec)}
    assert served - documented == set(), "served but undocumented"
    assert documented - served == set(), "documented but not served"


def test_summaries_are_the_view_docstrings(clean_app, spec):
    for (path, method), rule in served_operations(clean_app).items():
        doc = clean_app.view_functions[rule.endpoint].__doc__
        assert doc and doc.strip(), f"{rule.endpoint} has no docstring"
        assert spec["paths"][path][method]["summary"] == doc.strip().splitlines()[0].strip()


def _url(app, rule) -> str:
    values = {name: 1 if isinstance(rule._converters[name], IntegerConverter)
              else "0123456789abcdef0123456789abcdef.png" for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=next(iter(rule.methods)))


def test_declared_security_matches_what_anonymous_callers_get(clean_app, client, spec):
    for (path, method), rule in served_operations(clean_app).items():
        where = f"{method.upper()} {path}"
        op = spec["paths"][path][method]
        security = op.get("security", [])
        r = getattr(client, method)(_url(clean_app, rule))
        assert r.status_code < 500, f"{where} crashed for an anonymous empty request"
        required = security == [{"bearerAuth": []}]
        assert (r.status_code == 401) == required, f"{where}: anonymous got {r.status_code}, security {security}"
        if security:
            assert "401" in op["responses"], where


def test_operations_document_their_likely_errors(spec):
    for path, method, op in operations(spec):
        codes = set(op["responses"])
        where = f"{method.upper()} {path}"
        if "{" in path:
            assert "404" in codes, where
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, where
        if any(p.get("in") == "query" for p in op.get("parameters", [])):
            assert "400" in codes, where
        assert "500" in codes, where


def test_upload_is_documented_as_multipart_file_and_binary_download(spec):
    upload = spec["paths"][f"{PREFIX}/uploads"]["post"]
    form = deref(spec, upload["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert form["properties"]["file"] == {**form["properties"]["file"], "type": "string", "format": "binary"}
    assert form["required"] == ["file"]
    assert {"201", "401", "413", "415"} <= set(upload["responses"])
    assert upload["security"] == [{"bearerAuth": []}]
    download = spec["paths"][f"{PREFIX}/uploads/{{name}}"]["get"]
    assert "security" not in download and {"200", "304", "404"} <= set(download["responses"])


def test_each_app_serves_its_own_document(clean_app, client, tmp_path):
    cfg = config.TestingConfig()
    cfg.INSTANCE_DIR, cfg.UPLOAD_DIR = str(tmp_path), str(tmp_path / "uploads")
    cfg.DATABASE_URL = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    other = create_app(cfg)
    extra = Blueprint("extra", __name__, description="test only")

    @extra.get("/extra-ping")
    @extra.response(200)
    def extra_ping():
        """Answer a test ping."""
        return {}

    api.register_blueprint(extra, url_prefix=PREFIX)
    other_spec = other.test_client().get(f"{PREFIX}/openapi.json").get_json()
    assert other_spec["paths"][f"{PREFIX}/extra-ping"]["get"]["summary"] == "Answer a test ping."
    assert f"{PREFIX}/extra-ping" not in client.get(f"{PREFIX}/openapi.json").get_json()["paths"]
    with other.app_context():
        db.engine.dispose()


def test_listing_create_says_a_listing_tripping_a_rule_starts_pending_review(spec):
    op = spec["paths"][f"{PREFIX}/listings"]["post"]
    for text in (op["summary"], op["description"], op["responses"]["201"]["description"]):
        assert "`active`" in text and "`pending_review`" in text, text
    edit = spec["paths"][f"{PREFIX}/listings/{{listing_id}}"]["patch"]
    assert "`pending_review`" in edit["responses"]["200"]["description"]
