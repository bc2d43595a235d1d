"""Every frame the server sends is built in chat/ws/frames.py, and every send path goes through the one
batched append: checked on the source, so a second builder or a hand-written `dispatch()` cannot creep back."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from chat.ws import frames
from tests.support.source import parse_file

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "chat"


def _sources() -> dict[Path, ast.AST]:
    return {path: parse_file(path) for path in sorted(CHAT.rglob("*.py"))}


def _builds_a_frame(node: ast.AST) -> bool:
    """A dict literal with an "op" key, or a string that spells one out (`'{"op":...'`)."""
    if isinstance(node, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "op" for k in node.keys)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return '"op":' in node.value.replace(" ", "")
    return False


def test_outgoing_frames_are_built_only_in_the_frames_module():
    # asyncapi.py describes the frames (JSON Schema), it builds none; docstrings may show one.
    skip = {CHAT / "ws" / "frames.py", CHAT / "ws" / "asyncapi.py"}
    offenders = []
    for path, tree in _sources().items():
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                      if path not in skip and id(node) not in docstrings and _builds_a_frame(node)]
    assert offenders == []


def test_no_code_publishes_events_by_hand_or_stores_messages_outside_the_batched_append():
    names = {"dispatch", "after_commit_hooks", "after_commit_batch_hooks", "INSERT_MESSAGE"}
    used = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _sources().items() for node in ast.walk(tree)
            if isinstance(node, (ast.Name, ast.Attribute, ast.alias))
            and (getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", None)) in names]
    assert used == []
    send_path = [CHAT / "messages" / name for name in ("batch.py", "batch_sql.py", "posting.py", "send.py")]
    assert not [path for path in send_path if "SimpleNamespace" in path.read_text("utf-8")]
    inserts = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _sources().items()
               if path.name != "batch_sql.py" for node in ast.walk(tree)
               if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "insert"
               and node.args and getattr(node.args[0], "id", None) in ("messages_t", "inbox_t")]
    assert inserts == []


def test_frames_are_the_contract_shapes():
    assert json.loads(frames.message('{"id":1}', "c")) == {"op": "message", "message": {"id": 1}, "cursor": "c"}
    assert json.loads(frames.message('{"id":1}')) == {"op": "message", "message": {"id": 1}}
    assert json.loads(frames.ack("k", '{"id":1}', "c")) == {"op": "ack", "client_id": "k", "message": {"id": 1},
                                                             "cursor": "c"}
    assert json.loads(frames.synced("c", True)) == {"op": "synced", "cursor": "c", "more": True}
    assert json.loads(frames.error("banned", "No.")) == {"op": "error", "error": {"code": "banned", "message": "No."}}
    assert json.loads(frames.error("x", "y", {}, client_id="k")) == {
        "op": "error", "client_id": "k", "error": {"code": "x", "message": "y", "details": {}}}
    assert json.loads(frames.PONG) == {"op": "pong"}
