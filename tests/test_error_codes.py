"""The error code registry (core/error_codes.py) holds every code the API can answer with, and nothing else.

The source is scanned with `ast` for every place a code is made: `code=` at a raise site, `code = ...` in an
ApiError subclass, `error_response(status, "code", ...)`, WebSocket session ends, and `"code": "..."` in
hand-written error dicts. Each code found must be registered, with the status it is raised with where that
is known. The suite also runs strict (tests/conftest.py): an unregistered code fails where it is made.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import error_codes
from core.error_codes import ERROR_CODES, HTTP_ERROR, HTTP_STATUS_CODES, UnregisteredErrorCode, status_agrees
from core.errors import ApiError
from tests.support.source import parse, parse_file

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "marketplace", "chat", "config")


@dataclass(frozen=True)
class Found:
    code: str
    status: int | None  # None: not known from the source alone
    where: str


def _source_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _api_error_classes() -> dict[str, type[ApiError]]:
    """Every ApiError subclass, by name, once every module of the app is imported."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    classes, todo = {}, [ApiError]
    while todo:
        cls = todo.pop()
        classes[cls.__name__] = cls
        todo += cls.__subclasses__()
    return classes


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _const(node: ast.AST | None):
    return node.value if isinstance(node, ast.Constant) else None


def _codes(node: ast.AST) -> list[str]:
    """The codes a `code=` value can be: a literal, or either branch of `a if cond else b`."""
    if isinstance(node, ast.IfExp):
        return _codes(node.body) + _codes(node.orelse)
    return [node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else []


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: Path, classes: dict[str, type[ApiError]]) -> None:
        self.where = str(path.relative_to(ROOT))
        self.classes = classes
        self.found: list[Found] = []
        self.dynamic: list[str] = []

    def add(self, code, status, node: ast.AST) -> None:
        if isinstance(code, str):  # a name passed through (a helper's parameter) is checked where it is set
            self.found.append(Found(code, status, f"{self.where}:{node.lineno}"))

    def visit_Call(self, node: ast.Call) -> None:
        func = _name(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if "code" in keywords:
            value = keywords["code"]
            if any(isinstance(n, ast.JoinedStr) for n in ast.walk(value)):
                self.dynamic.append(f"{self.where}:{node.lineno}")
            cls = self.classes.get(func or "")
            status = _const(keywords.get("status")) or (cls.status if cls else None)
            for code in _codes(value):
                self.add(code, status, node)
        if func == "error_response" and len(node.args) >= 2:
            self.add(_const(node.args[1]), _const(node.args[0]), node)
        if func == "SessionEnd" and len(node.args) >= 2:
            close = _const(node.args[0])
            self.add(_const(node.args[1]), close - 4000 if isinstance(close, int) and close >= 4400 else None, node)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            if _const(key) == "code" and isinstance(_const(value), str):
                self.add(_const(value), None, node)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(_name(base) in self.classes for base in node.bases):
            values: dict[str, object] = {}
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple) \
                        and isinstance(stmt.value, ast.Tuple):
                    values.update({_name(t): _const(v) for t, v in zip(stmt.targets[0].elts, stmt.value.elts)})
                elif isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                    values[stmt.targets[0].id] = _const(stmt.value)
            if isinstance(values.get("code"), str):
                inherited = next(self.classes[_name(b)].status for b in node.bases if _name(b) in self.classes)
                status = values.get("status") or inherited
                self.add(values["code"], status, node)
        self.generic_visit(node)


@pytest.fixture(scope="module")
def scan() -> tuple[list[Found], list[str]]:
    classes = _api_error_classes()
    found, dynamic = [], []
    for path in _source_files():
        scanner = _Scanner(path, classes)
        scanner.visit(parse_file(path))
        found += scanner.found
        dynamic += scanner.dynamic
    return found, dynamic


def test_every_code_raised_anywhere_is_registered_with_its_status(scan):
    found, dynamic = scan
    assert len(found) > 60  # the scan sees the raise sites, not a handful
    unregistered = sorted({f"{f.code} ({f.where})" for f in found if f.code not in ERROR_CODES})
    assert unregistered == []
    wrong_status = sorted(f"{f.code}: raised with {f.status}, registered {ERROR_CODES[f.code].status} ({f.where})"
                          for f in found if f.status is not None and not status_agrees(f.code, f.status))
    assert wrong_status == []
    assert dynamic == [], "error codes are literal strings, so this scan (and grep) can see them"


def test_every_api_error_class_has_a_registered_code():
    for name, cls in _api_error_classes().items():
        assert status_agrees(cls.code, cls.status), f"{name}: {cls.code} {cls.status}"


def test_framework_errors_map_to_registered_codes():
    for status, code in HTTP_STATUS_CODES.items():
        assert ERROR_CODES[code].status == status
    assert all(status_agrees(HTTP_ERROR, s) for s in error_codes.OTHER_HTTP_STATUSES)


def test_the_registry_holds_nothing_that_is_never_raised(scan):
    found, _ = scan
    used = {f.code for f in found} | set(HTTP_STATUS_CODES.values()) | {HTTP_ERROR}
    used |= {cls.code for cls in _api_error_classes().values()}
    assert set(ERROR_CODES) - used == set()


def test_an_unregistered_code_fails_where_it_is_made():
    with pytest.raises(UnregisteredErrorCode):
        ApiError("x", code="made_up_code")
    with pytest.raises(UnregisteredErrorCode):
        ApiError("x", code="claim_limit", status=400)  # registered with 409
    with pytest.raises(UnregisteredErrorCode):
        type("MadeUp", (ApiError,), {"code": "made_up_code"})
    ApiError("x", code="claim_limit", status=409)


def test_the_docs_carry_the_table_and_the_error_schema_names_every_code(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    description = spec["info"]["description"]
    assert "| status | code | meaning |" in description
    for entry in ERROR_CODES.values():
        assert f"| `{entry.code}` | {entry.meaning} |" in description
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert sorted(detail["properties"]["code"]["enum"]) == sorted(ERROR_CODES)


SNIPPET = '''
class Gone(NotFound):
    code, message = "gone_away", "Gone."
class Teapot(ApiError):
    status = 418
    code = "teapot"
def f(x):
    raise Conflict("x", code="new_conflict")
    raise ApiError("x", status=402, code="pay_up")
    raise Forbidden("x", code="one" if x else "other")
    raise Forbidden("x", code=f"not_{x}")
    return error_response(451, "legal", "x"), SessionEnd(4408, "timeout", "x"), {"code": "in_a_dict"}
'''


def test_the_scan_sees_each_way_a_code_is_made():
    path = ROOT / "snippet.py"  # the scanner names files relative to the repository
    scanner = _Scanner(path, _api_error_classes())
    scanner.visit(parse(SNIPPET))
    assert {(f.code, f.status) for f in scanner.found} == {
        ("gone_away", 404), ("teapot", 418), ("new_conflict", 409), ("pay_up", 402), ("one", 403),
        ("other", 403), ("legal", 451), ("timeout", 408), ("in_a_dict", None)}
    assert scanner.dynamic == ["snippet.py:11"]
