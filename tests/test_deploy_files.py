"""Deployment files (Docker is not run here): the compose file parses and wires app, PostgreSQL, Redis and
migrations with health checks; the image runs the README's command as a non-root user; the entrypoint
passes `bash -n` and really waits for the local services, migrates and runs its command."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from tests.support.databases import pg_schema
from tests.support.production import readme_command

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint.sh"
REAL_SECRET = "s3cr3t-" + "x" * 32


def dockerfile_instruction(name: str) -> list[str]:
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith(name + " ")]
    assert lines, f"no {name} in the Dockerfile"
    return [line[len(name) + 1:] for line in lines]


def test_the_image_runs_the_readme_command():
    [cmd] = dockerfile_instruction("CMD")
    assert json.loads(cmd) == readme_command()
    [entrypoint] = dockerfile_instruction("ENTRYPOINT")
    assert json.loads(entrypoint) == ["scripts/docker-entrypoint.sh"]


def test_the_image_is_slim_and_not_root():
    [base] = dockerfile_instruction("FROM")
    assert re.fullmatch(r"python:3\.11-slim\S*", base)
    [user] = dockerfile_instruction("USER")
    assert user not in ("root", "0")
    [workdir] = dockerfile_instruction("WORKDIR")
    assert workdir == "/app"  # the README's relative .venv/bin/gunicorn and gunicorn.conf.py are found there


def test_the_compose_file_wires_app_postgres_redis_and_migrations():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "postgres", "redis", "migrate"}
    for name in ("app", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    app, migrate = services["app"], services["migrate"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["command"] == [".venv/bin/flask", "--app", "app", "migrate"]
    assert "command" not in app  # the image's CMD: the README's command
    env = app["environment"]
    assert env == migrate["environment"]
    assert env["APP_ENV"] == "production" and env["DATABASE_URL"].startswith("postgresql://")
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert app["ulimits"]["nofile"]["soft"] >= 11256
    assert "/readyz" in " ".join(app["healthcheck"]["test"])


def test_the_entrypoint_parses():
    assert subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True).returncode == 0
    assert os.access(ENTRYPOINT, os.X_OK)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'container.sqlite3'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL not set")
    with pg_schema() as url:
        yield url


def _entrypoint(tmp_path: Path, database_url: str, redis_url: str, *command: str, **settings: str):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(APP_ENV="production", SECRET_KEY=REAL_SECRET, DATABASE_URL=database_url, REDIS_URL=redis_url,
               INSTANCE_DIR=str(tmp_path), **settings)
    return subprocess.run([str(ENTRYPOINT), *command], env=env, capture_output=True, text=True, timeout=180)


def test_the_entrypoint_waits_migrates_and_runs_its_command(fresh_database, redis_url, tmp_path):
    done = _entrypoint(tmp_path, fresh_database, redis_url, "bash", "-c", "echo started as $0", "cmd",
                       MIGRATE_ON_START="1", WAIT_TIMEOUT="30")
    assert done.returncode == 0, done.stderr
    assert "database answers" in done.stderr and "redis answers" in done.stderr
    assert done.stdout.strip().endswith("started as cmd")
    engine = create_engine(fresh_database, poolclass=NullPool)
    try:
        assert "alembic_version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_entrypoint_gives_up_on_a_broker_that_never_answers(tmp_path):
    done = _entrypoint(tmp_path, f"sqlite:///{tmp_path / 'c.sqlite3'}", "redis://127.0.0.1:1/0", "true",
                       WAIT_TIMEOUT="2")
    assert done.returncode != 0 and "redis did not answer within 2 s" in done.stderr
