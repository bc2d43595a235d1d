"""`flask --app app create-admin NAME`: an admin account with a password from the env or a prompt."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from marketplace.models import User

API = "/api/v1"


def _role(app, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.role).where(User.username == username))


def test_create_admin_from_env_password(clean_app, client, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-password")
    result = clean_app.test_cli_runner().invoke(args=["create-admin", "boss"])
    assert result.exit_code == 0, result.output
    assert _role(clean_app, "boss") == "admin"
    r = client.post(f"{API}/token", json={"grant_type": "password", "username": "boss",
                                          "password": "a-long-admin-password"})
    assert r.status_code == 200 and r.get_json()["user"]["role"] == "admin"


def test_create_admin_prompts_for_the_password(clean_app, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    result = clean_app.test_cli_runner().invoke(args=["create-admin", "boss2"],
                                                input="prompted-password\nprompted-password\n")
    assert result.exit_code == 0, result.output
    assert _role(clean_app, "boss2") == "admin"


def test_create_admin_refuses_short_password_and_taken_name(clean_app, factory, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    result = clean_app.test_cli_runner().invoke(args=["create-admin", "boss3"])
    assert result.exit_code != 0 and _role(clean_app, "boss3") is None
    factory.user("taken")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-password")
    result = clean_app.test_cli_runner().invoke(args=["create-admin", "taken"])
    assert result.exit_code != 0 and "taken" in result.output and _role(clean_app, "taken") == "user"
