"""Settings: production refuses unsafe defaults; every rate limit default is valid, tests run without them."""
from __future__ import annotations

import pytest

import config
from config import ProductionConfig, load_config
from config.settings import DEFAULT_SECRET_KEY, RATE_LIMIT_DEFAULTS
from core.ratelimit import LIMIT_NAMES, parse_limit
from tests.support.apps import make_app

REAL_SECRET = "s3cr3t-" + "x" * 32


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY, "short"])
def test_production_refuses_a_default_or_weak_secret_key(production_env, secret):
    if secret is None:
        production_env.delenv("SECRET_KEY")
    else:
        production_env.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_production_refuses_debug(production_env, value):
    production_env.setenv("FLASK_DEBUG", value)
    with pytest.raises(RuntimeError, match="debug"):
        ProductionConfig()


def test_production_with_a_real_secret_has_every_rate_limit_on(production_env):
    cfg = load_config("production")
    assert cfg.SECRET_KEY == REAL_SECRET and not cfg.DEBUG
    assert {name.lower() for name in RATE_LIMIT_DEFAULTS} == set(LIMIT_NAMES)
    for name in LIMIT_NAMES:
        assert parse_limit(name, getattr(cfg, f"RATE_LIMIT_{name.upper()}")) is not None, name
    assert cfg.CORS_ORIGINS == [] and cfg.TRUSTED_PROXY_COUNT == 0 and cfg.HSTS_MAX_AGE > 0


def test_limits_come_from_the_environment(production_env):
    production_env.setenv("RATE_LIMIT_SEND", "10/min burst 5")
    production_env.setenv("RATE_LIMIT_CLAIM", "off")
    production_env.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    cfg = load_config("production")
    assert cfg.RATE_LIMIT_SEND == "10/min burst 5" and parse_limit("claim", cfg.RATE_LIMIT_CLAIM) is None
    assert cfg.CORS_ORIGINS == ["https://a.example", "https://b.example"]


def test_tests_run_with_every_limit_off(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_SEND", "1/hour")
    cfg = config.TestingConfig()
    assert all(parse_limit(n, getattr(cfg, f"RATE_LIMIT_{n.upper()}")) is None for n in LIMIT_NAMES)


def test_a_malformed_limit_stops_the_app_at_startup(tmp_path):
    with pytest.raises(ValueError, match="send"):
        make_app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", RATE_LIMIT_SEND="lots")


def test_notifier_settings_are_checked(production_env):
    production_env.setenv("NOTIFIER", "carrier-pigeon")
    with pytest.raises(RuntimeError, match="NOTIFIER"):
        load_config("development")
    production_env.setenv("NOTIFIER", "webhook")
    with pytest.raises(RuntimeError, match="NOTIFY_WEBHOOK_URL"):
        load_config("production")
    production_env.setenv("NOTIFIER", "wechat")
    with pytest.raises(RuntimeError, match="WECHAT_APPID"):
        load_config("production")
    production_env.delenv("NOTIFIER")
    assert load_config("development").NOTIFIER == "log" and load_config("testing").NOTIFY_WORKER is False
