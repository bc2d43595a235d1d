"""Command-line tasks: `flask --app app create-admin NAME`, `flask --app app seed-demo`,
`flask --app app sweep-uploads`."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.errors import ApiError
from marketplace.listings.demo import DEFAULT_DEMO_PASSWORD, DEMO_USERS, seed_demo
from marketplace.uploads.sweep import sweep_uploads
from marketplace.users.services import register_user


@click.command("create-admin")
@with_appcontext
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


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create demo users demo1/demo2 and a dozen listings (never in production; safe to rerun).

    Their password is DEMO_PASSWORD when set, else paipai-demo-2024 (printed at the end).
    """
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-demo is refused in production.")
    password = os.environ.get("DEMO_PASSWORD") or None
    if password is not None and len(password) < 8:
        raise click.ClickException("DEMO_PASSWORD needs at least 8 characters.")
    report = seed_demo(password=password or DEFAULT_DEMO_PASSWORD)
    click.echo(f"users created: {', '.join(report.users_created) or 'none'}; "
               f"listings created: {report.listings_created}")
    where = "the one in DEMO_PASSWORD" if password else DEFAULT_DEMO_PASSWORD
    click.echo(f"log in as {' or '.join(name for name, _ in DEMO_USERS)}, password: {where}")


@click.command("sweep-uploads")
@with_appcontext
@click.option("--older-than", "older_than", type=int, default=None,
              help="Seconds (default UPLOAD_SWEEP_AFTER_S).")
def sweep_uploads_command(older_than: int | None) -> None:
    """Delete uploads nothing references and half-written upload files, once old enough."""
    report = sweep_uploads(older_than_s=older_than)
    click.echo(f"uploads deleted: {report.uploads_deleted}; half-written files deleted: "
               f"{report.temp_files_deleted}; files without a row deleted: {report.orphan_files_deleted}")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(sweep_uploads_command)
