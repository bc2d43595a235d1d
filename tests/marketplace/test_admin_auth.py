"""Every admin route is for administrators only: 401 without a token, 403 `forbidden` for a user."""
from __future__ import annotations

import pytest

from tests.marketplace.admin_helpers import API, error_code

ADMIN_ROUTES = [
    ("get", "/admin/users"),
    ("post", "/admin/users/{user}/ban"),
    ("post", "/admin/users/{user}/unban"),
    ("get", "/admin/listings"),
    ("post", "/admin/listings/{listing}/approve"),
    ("post", "/admin/listings/{listing}/reject"),
    ("post", "/admin/listings/{listing}/takedown"),
    ("post", "/admin/listings/{listing}/restore"),
    ("get", "/admin/reports"),
    ("post", "/admin/reports/{report}/resolve"),
    ("get", "/admin/audit"),
]
BODIES = {"ban": {"reason": "x"}, "reject": {"reason": "x"}, "takedown": {"reason": "x"},
          "resolve": {"action": "dismiss"}}


@pytest.fixture
def targets(client, factory):
    """A user, their listing and a report on it, so every path names something that exists."""
    seller, reporter = factory.user(), factory.user()
    listing = factory.listing(seller)
    r = client.post(f"{API}/reports", json={"target_type": "listing", "target_id": listing["id"], "reason": "假货"},
                    headers=reporter.headers)
    assert r.status_code == 201
    return {"user": seller.id, "listing": listing["id"], "report": r.get_json()["id"]}


def _call(client, method, path, targets, headers):
    url = API + path.format(**targets)
    body = BODIES.get(path.rsplit("/", 1)[-1]) if method == "post" else None
    return getattr(client, method)(url, json=body, headers=headers)


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_anonymous_callers_get_401(client, targets, method, path):
    r = _call(client, method, path, targets, {})
    assert r.status_code == 401 and error_code(r) == "unauthorized"


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_users_who_are_not_admins_get_403_and_nothing_changes(client, factory, targets, method, path):
    user = factory.user()
    r = _call(client, method, path, targets, factory.login(user.username).headers)
    assert r.status_code == 403 and error_code(r) == "forbidden"
    admin = factory.admin()
    assert client.get(f"{API}/admin/audit", headers=admin.headers).get_json()["total"] == 0
    assert client.get(f"{API}/listings/{targets['listing']}").get_json()["status"] == "active"


def test_reporting_needs_a_token(client):
    r = client.post(f"{API}/reports", json={"target_type": "user", "target_id": 1, "reason": "x"})
    assert r.status_code == 401
