"""Reading settings from the environment (and `.env`): a bad value names its variable."""
from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class ConfigError(RuntimeError):
    """A setting is missing, malformed or unsafe; the message names the variable and what to set."""


def load_env_file(path: Path | None = None) -> bool:
    """Read `.env` (the repository root's, or ENV_FILE) into os.environ; real variables win."""
    path = path or Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env")
    return path.is_file() and load_dotenv(path, override=False)


def env_str(name: str, default: str) -> str:
    """The value, or `default` when unset or empty."""
    return os.environ.get(name) or default


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, e.g. UPLOAD_MAX_BYTES=10485760 (not 10MB)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number (default {default})") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (default {default})") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false)")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default)
    for choice in choices:
        if raw.strip().lower() == choice.lower():
            return choice
    raise ConfigError(f"{name}={raw!r} is not one of {', '.join(choices)}")


def env_list(name: str) -> list[str]:
    """Comma-separated values, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
