"""Application factory; `python app.py` runs the development server (threads)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, load_config
from config.env import env_int, env_str
from core import log_redaction
from core.api import init_api
from core.auth import NoCookieSessions
from core.db import db
from core.errors import register_error_handlers
from core.input import register_query_check, register_row_id_converter
from core.limits import register_body_limits
from core.logging import configure_logging


def create_app(config: Config | str | None = None) -> Flask:
    """Build the app for `config` (a Config instance, a config name, or APP_ENV)."""
    if not isinstance(config, Config):
        config = load_config(config)
    app = Flask(__name__, instance_path=config.INSTANCE_DIR, static_folder=None)
    app.config.from_mapping(config.as_dict())
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = NoCookieSessions()
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    configure_logging(config.LOG_LEVEL, config.LOG_FORMAT)
    log_redaction.install()  # no access token or ws ticket in any log line

    register_row_id_converter(app)
    db.init_app(app)
    register_error_handlers(app)
    register_body_limits(app)
    register_query_check(app)
    init_api(app)

    import chat
    import marketplace
    import web
    from chat import broker
    from chat import ws as chat_ws
    from core import access, capacity, headers, metrics, migrate, ops, ratelimit, requestid
    broker.init_app(app)
    marketplace.init_app(app)
    chat.init_app(app)
    chat_ws.init_app(app)
    ops.init_app(app)
    migrate.init_app(app)
    web.init_app(app)
    ratelimit.init_app(app)
    headers.init_app(app)
    metrics.init_app(app)
    requestid.init_app(app)
    capacity.init_app(app)
    access.init_app(app)  # after capacity: a refused socket is timed and logged too
    return app


if __name__ == "__main__":
    from chat.ws.shutdown import close_sockets_on_sigterm
    from core.dev_server import dev_server_options
    dev_app = create_app()
    close_sockets_on_sigterm(dev_app)
    dev_app.run(host=env_str("HOST", "127.0.0.1"), port=env_int("PORT", 8000), **dev_server_options())
