"""Environment-driven configuration: one class per deployment kind."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from config.env import ConfigError, env_bool, env_choice, env_float, env_int, env_list, env_str, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-not-secret"


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the URL came with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


_env_int = env_int  # a bad value names its variable (config.env)


def _origin(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL (None for none); anything else is a configuration error."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in " ;,'\"@"):
        raise RuntimeError(f"not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


_env_list = env_list


# Production rate limits: "N/period [burst B]" or "off" (core/ratelimit). Generous per IP: many
# users share one address behind carrier NAT.
RATE_LIMIT_DEFAULTS = {
    "LOGIN_IP": "100/hour burst 20",  # failed logins from one address
    "LOGIN_USER": "20/hour burst 10",  # failed logins for one username (a throttle, never a lockout)
    "REGISTER_IP": "20/hour burst 5",  # registrations from one address
    "SEND": "60/min burst 20",  # messages (and offers) of one user: bursts of 20, then 1 a second
    "SEND_SUSTAINED": "1200/hour",  # ... and at most this many over an hour
    "INQUIRY": "30/hour burst 10",  # inquiries opened by one user
    "CLAIM": "10/hour burst 5",  # donation claims made by one user
    "TYPING": "30/min burst 10",  # typing events relayed for one user (after coalescing per group)
    "READ": "120/min burst 30",  # /ws read frames of one user that move a read marker
    "WS_HANDSHAKE_IP": "120/min burst 60",  # /ws handshakes from one address that fail to authenticate
    "UPLOAD": "60/hour burst 20",  # uploads of one user
}


class Config:
    """Defaults shared by every deployment; each value can come from the environment."""

    ENV_NAME = "development"
    DEBUG = False
    TESTING = False
    # argon2id cost: the library's defaults outside tests.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536

    # flask-smorest / OpenAPI
    API_TITLE = "PaiPai API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    def __init__(self) -> None:
        env = os.environ
        self.INSTANCE_DIR = env_str("INSTANCE_DIR", str(BASE_DIR / "instance"))
        self.SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
        self.DATABASE_URL = normalize_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{Path(self.INSTANCE_DIR) / 'paipai.sqlite3'}"
        )
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.UPLOAD_DIR = env.get("UPLOAD_DIR", str(Path(self.INSTANCE_DIR) / "uploads"))
        self.UPLOAD_MAX_BYTES = _env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
        self.JSON_MAX_BYTES = _env_int("JSON_MAX_BYTES", 256 * 1024)
        # Bytes one user may upload per rolling 24 hours (0: no quota).
        self.UPLOAD_DAILY_BYTES = _env_int("UPLOAD_DAILY_BYTES", 200 * 1024 * 1024)
        # Uploads nothing references, and half-written `.upload-*` files, are deleted once this old;
        # every process checks every UPLOAD_SWEEP_INTERVAL_S (0: only `flask sweep-uploads`).
        self.UPLOAD_SWEEP_AFTER_S = _env_int("UPLOAD_SWEEP_AFTER_S", 24 * 3600)
        self.UPLOAD_SWEEP_INTERVAL_S = _env_int("UPLOAD_SWEEP_INTERVAL_S", 3600)
        # Absolute base for URLs we hand out (uploads); defaults to the request's host.
        self.PUBLIC_BASE_URL = env.get("PUBLIC_BASE_URL") or None
        # The one other origin the web pages may load images from (their CSP img-src).
        self.MEDIA_ORIGIN = _origin(env.get("MEDIA_ORIGIN") or self.PUBLIC_BASE_URL)
        self.TOKEN_TTL_SECONDS = _env_int("TOKEN_TTL_SECONDS", 7 * 24 * 3600)
        self.MAX_OPEN_CLAIMS = _env_int("MAX_OPEN_CLAIMS", 5)
        # Item chats whose listing has been final this long are archived (read-only, out of the list).
        self.CHAT_ARCHIVE_AFTER_DAYS = _env_int("CHAT_ARCHIVE_AFTER_DAYS", 30)
        # Members a user group (kind "group") and a room may hold at most.
        self.GROUP_MAX_MEMBERS = _env_int("GROUP_MAX_MEMBERS", 500)
        self.ROOM_MAX_MEMBERS = _env_int("ROOM_MAX_MEMBERS", 5000)
        # Message edits: by the sender within this many seconds of sending, at most this many times.
        self.EDIT_WINDOW_S = _env_int("EDIT_WINDOW_S", 900)
        self.EDIT_MAX_REVISIONS = _env_int("EDIT_MAX_REVISIONS", 10)
        # Distinct emoji reactions one message may carry.
        self.REACTIONS_MAX_DISTINCT = _env_int("REACTIONS_MAX_DISTINCT", 20)
        # A user kicked out of a room cannot join it again for this long.
        self.ROOM_KICK_SECONDS = _env_int("ROOM_KICK_SECONDS", 3600)
        # Largest document (`file` message: PDF, Office, text, zip) accepted by POST /uploads.
        self.FILE_MAX_BYTES = _env_int("FILE_MAX_BYTES", 20 * 1024 * 1024)
        # Uploads are bounded precisely by the upload service; this is the
        # transport-level guard so nobody streams gigabytes at us.
        self.MAX_CONTENT_LENGTH = max(self.UPLOAD_MAX_BYTES, self.FILE_MAX_BYTES) + 64 * 1024
        for name, default in RATE_LIMIT_DEFAULTS.items():
            setattr(self, f"RATE_LIMIT_{name}", env_str(f"RATE_LIMIT_{name}", default))
        self.RATE_LIMIT_PREFIX = env_str("RATE_LIMIT_PREFIX", "ratelimit:")
        # Proxies in front of us that append to X-Forwarded-For/-Proto (0: use the peer's address).
        self.TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
        # Origins (scheme://host[:port]) browsers may call the API from; "*" any; none by default.
        self.CORS_ORIGINS = env_list("CORS_ORIGINS")
        # Strict-Transport-Security max-age, sent on HTTPS requests only (0: never).
        self.HSTS_MAX_AGE = env_int("HSTS_MAX_AGE", 180 * 24 * 3600)
        # Capacity of one process (gunicorn worker): sockets past WS_MAX_SOCKETS get a 503 at once;
        # gunicorn.conf.py lets the worker hold WS_MAX_SOCKETS + HTTP_MAX_CONNECTIONS connections.
        self.WS_MAX_SOCKETS = env_int("WS_MAX_SOCKETS", 10_000, minimum=1)
        self.HTTP_MAX_CONNECTIONS = env_int("HTTP_MAX_CONNECTIONS", 1_000, minimum=1)
        # Logs: level, and json / text / auto (text when stderr is a terminal, JSON otherwise).
        self.LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
        self.LOG_FORMAT = env_choice("LOG_FORMAT", "auto", ("auto", "json", "text"))
        self.ACCESS_LOG = env_bool("ACCESS_LOG", True)
        # /metrics: off unless a bearer token or allowed addresses (IPs or CIDRs) are configured.
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        self.METRICS_ALLOW = env_list("METRICS_ALLOW")
        # WeChat mini-program (marketplace/wechat): login, bind, subscribe messages. Unset: WeChat is off.
        self.WECHAT_APPID = env.get("WECHAT_APPID") or None
        self.WECHAT_SECRET = env.get("WECHAT_SECRET") or None
        self.WECHAT_API_BASE = env.get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/")
        self.WECHAT_TIMEOUT_S = float(env.get("WECHAT_TIMEOUT_S", "5"))
        self.WECHAT_TEMPLATE_ID = env.get("WECHAT_TEMPLATE_ID") or None
        # Which template keyword carries which field (a template's keywords are named like thing1, time4).
        self.WECHAT_TEMPLATE_FIELDS = env.get("WECHAT_TEMPLATE_FIELDS",
                                              "sender=thing1,listing=thing2,preview=thing3,time=time4")
        self.WECHAT_NOTIFY_PAGE = env.get("WECHAT_NOTIFY_PAGE", "pages/chat/chat?group_id={group_id}")
        self.WECHAT_MINIPROGRAM_STATE = env.get("WECHAT_MINIPROGRAM_STATE", "formal")
        # Notifications for offline recipients (chat/notify): wechat, webhook, log or off.
        self.NOTIFIER = env.get("NOTIFIER", "log")
        if self.NOTIFIER not in ("wechat", "webhook", "log", "off"):
            raise RuntimeError(f"NOTIFIER must be wechat, webhook, log or off, not {self.NOTIFIER!r}")
        self.NOTIFY_WORKER = env.get("NOTIFY_WORKER", "1").lower() in ("1", "true", "yes")
        self.NOTIFY_WINDOW_S = _env_int("NOTIFY_WINDOW_S", 300)
        self.NOTIFY_DELAY_S = _env_int("NOTIFY_DELAY_S", 15)
        self.NOTIFY_MAX_ATTEMPTS = _env_int("NOTIFY_MAX_ATTEMPTS", 6)
        self.NOTIFY_BACKOFF_S = _env_int("NOTIFY_BACKOFF_S", 5)
        self.NOTIFY_LEASE_S = _env_int("NOTIFY_LEASE_S", 60)
        self.NOTIFY_POLL_S = float(env.get("NOTIFY_POLL_S", "2"))
        self.NOTIFY_WEBHOOK_URL = env.get("NOTIFY_WEBHOOK_URL") or None
        self.NOTIFY_WEBHOOK_SECRET = env.get("NOTIFY_WEBHOOK_SECRET") or None
        self.NOTIFY_WEBHOOK_TIMEOUT_S = float(env.get("NOTIFY_WEBHOOK_TIMEOUT_S", "5"))
        self._relay_settings()

    def _relay_settings(self) -> None:
        """The WebSocket relay and its send queue (chat/ws; the README's table says what each does)."""
        # ping interval, token re-check, and how long one socket write may block
        self.WS_HEARTBEAT_S = env_float("WS_HEARTBEAT_S", 25.0)
        # a socket opened without a cursor holds positions until the client's first frame, at most this long
        self.WS_HELLO_GRACE_S = env_float("WS_HELLO_GRACE_S", 2.0)
        # after a partial replay (`more: true`) positions are held until the next sync, at most this long
        self.WS_SYNC_GRACE_S = env_float("WS_SYNC_GRACE_S", 30.0)
        self.WS_SYNC_BATCH = _env_int("WS_SYNC_BATCH", 200)  # messages per `synced` batch of a replay
        self.WS_QUEUE_MAX = _env_int("WS_QUEUE_MAX", 1000)  # frames queued for one socket before it is cut off
        # how often a live socket double-checks the database for positions the broker lost
        self.WS_CATCH_UP_S = env_float("WS_CATCH_UP_S", 25.0)
        self.WS_MAX_FRAME_BYTES = _env_int("WS_MAX_FRAME_BYTES", 32 * 1024)  # a bigger client frame: close 1009
        # the kernel's send buffer per socket (0: the OS autotunes it, up to megabytes)
        self.WS_SEND_BUFFER_BYTES = _env_int("WS_SEND_BUFFER_BYTES", 256 * 1024)
        # a position arriving ahead of a missing one waits this long for it before it is read from the database
        self.WS_GAP_WAIT_S = env_float("WS_GAP_WAIT_S", 0.2)
        self.WS_COALESCE = _env_int("WS_COALESCE", 64)  # frames written to a socket in one write at most
        self.WS_SEND_BATCH = _env_int("WS_SEND_BATCH", 1000)  # sends committed in one transaction at most
        self.WS_SEND_QUEUE_MAX = _env_int("WS_SEND_QUEUE_MAX", 5000)  # queued sends before readers wait
        self.WS_SEND_IDLE_S = env_float("WS_SEND_IDLE_S", 30.0)  # the send worker ends after this long idle
        # at most this long a socket's op waits for its earlier sends to commit (ops keep the client's order)
        self.WS_SEND_WAIT_S = env_float("WS_SEND_WAIT_S", 60.0)
        # One user's typing in one group is relayed at most once per this many seconds (per process).
        self.WS_TYPING_INTERVAL_S = env_float("WS_TYPING_INTERVAL_S", 3.0)
        # After a socket's close frame, what the client still sends is drained this long before the TCP
        # close (closing with unread data resets the connection, which can lose the close code).
        self.WS_CLOSE_LINGER_S = env_float("WS_CLOSE_LINGER_S", 2.0)
        # Lifetime of a /ws ticket (POST /api/v1/ws/ticket), used once.
        self.WS_TICKET_TTL_S = _env_int("WS_TICKET_TTL_S", 30)
        # Sockets one user may hold open, in every process together when REDIS_URL is set (in this one
        # otherwise); the oldest is closed (4429) beyond.
        self.WS_MAX_SOCKETS_PER_USER = _env_int("WS_MAX_SOCKETS_PER_USER", 10)
        # /ws handshakes from one address not yet authenticated, in one process; the next gets 429.
        self.WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS = _env_int("WS_MAX_PENDING_HANDSHAKES_PER_ADDRESS", 20, minimum=1)
        # A process's presence heartbeat lives this long (refreshed every third of it): a process that dies
        # stops holding its users online, and their sockets stop counting against the cap, within it.
        self.PRESENCE_TTL_S = env_float("PRESENCE_TTL_S", 45.0, minimum=1.0)

    def as_dict(self) -> dict:
        """Every upper-case setting, class defaults and instance values alike."""
        names = {n for n in dir(self) if n.isupper()}
        return {n: getattr(self, n) for n in names}


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024

    def __init__(self) -> None:
        super().__init__()
        for name in RATE_LIMIT_DEFAULTS:  # off: the suite's many logins and sends; limit tests turn them on
            setattr(self, f"RATE_LIMIT_{name}", "off")
        self.UPLOAD_SWEEP_INTERVAL_S = 0  # the many apps of the suite run no sweeper; its tests start one
        self.NOTIFY_WORKER = False  # tests drain the notification queue themselves
        self.WECHAT_TIMEOUT_S = 2.0


class ProductionConfig(Config):
    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        if self.SECRET_KEY == DEFAULT_SECRET_KEY or len(self.SECRET_KEY) < 16:
            raise RuntimeError("production needs SECRET_KEY set to a real secret (16+ chars)")
        if os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes"):
            raise RuntimeError("production refuses to run with debug on")
        if self.NOTIFIER == "webhook" and not (self.NOTIFY_WEBHOOK_URL and self.NOTIFY_WEBHOOK_SECRET):
            raise RuntimeError("NOTIFIER=webhook needs NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET")
        if self.NOTIFIER == "wechat" and not (self.WECHAT_APPID and self.WECHAT_SECRET and self.WECHAT_TEMPLATE_ID):
            raise RuntimeError("NOTIFIER=wechat needs WECHAT_APPID, WECHAT_SECRET and WECHAT_TEMPLATE_ID")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the settings for `name` (default: the APP_ENV variable); `.env` is read first,
    except for the test suite's settings."""
    if name != "testing":
        load_env_file()
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ConfigError(f"unknown APP_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
