"""Helpers of the admin moderation tests: the admin API calls, and audit entries read back."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.factories import Actor

API = "/api/v1"
ADMIN = f"{API}/admin"


def post(client: FlaskClient, actor: Actor, path: str, body: dict | None = None, status: int = 200) -> dict:
    """POST under /api/v1 and check the status; the JSON answer."""
    r = client.post(f"{API}{path}", json=body, headers=actor.headers)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def get(client: FlaskClient, actor: Actor, path: str, expect: int = 200, **params: Any) -> dict:
    """GET under /api/v1 with query `params` and check the status; the JSON answer."""
    r = client.get(f"{API}{path}", query_string=params, headers=actor.headers)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def ban(client: FlaskClient, admin: Actor, user_id: int, reason: str = "发布违规广告", status: int = 200,
        **extra: Any) -> dict:
    return post(client, admin, f"/admin/users/{user_id}/ban", {"reason": reason, **extra}, status=status)


def audit(client: FlaskClient, admin: Actor, **params: Any) -> list[dict]:
    """Audit entries (newest first) matching the filters."""
    return get(client, admin, "/admin/audit", page_size=100, **params)["items"]


def report(client: FlaskClient, reporter: Actor, target_type: str, target_id: int, reason: str = "虚假信息",
           status: int = 201) -> dict:
    return post(client, reporter, "/reports",
                {"target_type": target_type, "target_id": target_id, "reason": reason}, status=status)
