"""Command-line tasks: `flask --app app create-admin NAME`, `flask --app app seed-demo`."""
from __future__ import annotations

import os

import click
from flask import Flask

from core.errors import ApiError
from marketplace.users.services import register_user


@click.command("create-admin")
@click.argument("username")
@click.option("--nickname", default=None, help="Display name (defaults to the username).")
def create_admin(username: str, nickname: str | None) -> None:
    """Create an admin account; the password comes from ADMIN_PASSWORD or a prompt."""
    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    try:
        user = register_user(username=username, password=password, nickname=nickname, role="admin")
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"admin {user.username} created (id {user.id})")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
