"""Settings from the environment: a bad value names its variable, `.env` is read (real variables win), and
`.env.example` and the README's table list every variable the code reads."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from config import load_config
from config.env import ConfigError, load_env_file
from config.settings import RATE_LIMIT_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", ROOT / "gunicorn.conf.py",
           *[p for d in ("config", "core", "chat", "marketplace", "web") for p in (ROOT / d).rglob("*.py")]]
READ = re.compile(r"(?:env_(?:int|str|float|bool|choice|list)|environ\.get|env\.get|getenv)\(\s*\"([A-Z][A-Z0-9_]+)\"")
NOT_IN_ENV_FILE = {"ENV_FILE"}  # names the file itself


@pytest.fixture(autouse=True)
def environment_restored():
    """load_dotenv writes into os.environ: put it back as it was after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def variables_read() -> set[str]:
    names = {name for path in SOURCES for name in READ.findall(path.read_text(encoding="utf-8"))}
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", (ROOT / "scripts" / "docker-entrypoint.sh").read_text()))
    return names | {f"RATE_LIMIT_{name}" for name in RATE_LIMIT_DEFAULTS}


@pytest.mark.parametrize("name, value", [
    ("UPLOAD_MAX_BYTES", "10MB"), ("JSON_MAX_BYTES", "lots"), ("TOKEN_TTL_SECONDS", "7d"),
    ("WS_MAX_SOCKETS", "0"), ("HTTP_MAX_CONNECTIONS", "-5"), ("LOG_LEVEL", "LOUD"), ("LOG_FORMAT", "xml"),
    ("ACCESS_LOG", "maybe"), ("TRUSTED_PROXY_COUNT", "1.5"),
])
def test_a_bad_value_names_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}="):
        load_config("development")


def test_upload_max_bytes_10mb_says_what_is_wrong(monkeypatch):
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "10MB")
    with pytest.raises(ConfigError) as error:
        load_config("development")
    assert str(error.value) == "UPLOAD_MAX_BYTES='10MB' is not a whole number (default 10485760)"


def test_an_env_file_is_read_and_real_variables_win(monkeypatch, tmp_path):
    env_file = tmp_path / "deploy.env"
    env_file.write_text("MAX_OPEN_CLAIMS=9\nCHAT_ARCHIVE_AFTER_DAYS=7\n# a comment\nHSTS_MAX_AGE=60\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    monkeypatch.setenv("HSTS_MAX_AGE", "120")
    for name in ("MAX_OPEN_CLAIMS", "CHAT_ARCHIVE_AFTER_DAYS"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config("development")
    assert (cfg.MAX_OPEN_CLAIMS, cfg.CHAT_ARCHIVE_AFTER_DAYS, cfg.HSTS_MAX_AGE) == (9, 7, 120)


def test_the_test_suite_settings_never_read_an_env_file(monkeypatch, tmp_path):
    env_file = tmp_path / "deploy.env"
    env_file.write_text("MAX_OPEN_CLAIMS=9\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    monkeypatch.delenv("MAX_OPEN_CLAIMS", raising=False)
    assert load_config("testing").MAX_OPEN_CLAIMS == 5


def test_no_env_file_is_fine(monkeypatch, tmp_path):
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "absent.env"))
    assert load_env_file() is False


def test_the_example_env_file_holds_the_defaults(monkeypatch, tmp_path):
    for name in variables_read():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "absent.env"))
    defaults = load_config("development").as_dict()
    monkeypatch.setenv("ENV_FILE", str(ROOT / ".env.example"))
    from_example = load_config("development").as_dict()
    assert {k for k in defaults if defaults[k] != from_example[k]} == set()


def test_env_example_lists_every_variable():
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert variables_read() - NOT_IN_ENV_FILE - listed == set()
    assert listed - variables_read() == set()  # nothing stale


def test_the_readme_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(
        line.split("|")[1] for line in table.splitlines() if line.startswith("| `"))))
    assert variables_read() - documented == set()
