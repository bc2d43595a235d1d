"""Building app instances for tests: the testing config pointed at a private database and folder."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app import create_app
from config import TestingConfig


def test_config(tmp: Path, database_url: str, **overrides: Any) -> TestingConfig:
    """TestingConfig with its own database, instance and upload folder, no Redis unless given."""
    cfg = TestingConfig()
    cfg.INSTANCE_DIR = str(tmp)
    cfg.DATABASE_URL = database_url
    cfg.UPLOAD_DIR = str(Path(tmp) / "uploads")
    cfg.REDIS_URL = None
    for name, value in overrides.items():
        setattr(cfg, name, value)
    return cfg


def make_app(tmp: Path, database_url: str, **overrides: Any) -> Flask:
    return create_app(test_config(tmp, database_url, **overrides))


def close_app(app: Flask) -> None:
    """Stop what an app started: its presence heartbeat (which would go on beating at a Redis that a
    later fixture stops), its broker, its pooled connections."""
    app.extensions["presence"].close()
    app.extensions["broker"].close()
    app.extensions["db"].engine.dispose()


test_config.__test__ = False  # not a test, whatever pytest thinks of the name
