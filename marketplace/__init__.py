"""Users and tokens, listings, donations, favorites, reviews, blocks and uploads."""
from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    """Register the marketplace's routes, token resolver and CLI commands; start the upload sweep."""
    from core.api import api
    from core.auth import set_token_resolver
    from core.openapi import add_refiner
    from marketplace import cli, openapi_doc, security
    from marketplace.donations.routes import bp as donations_bp
    from marketplace.listings.routes import bp as listings_bp
    from marketplace.moderation.keyword_routes import bp as keywords_bp
    from marketplace.moderation.routes import bp as moderation_bp
    from marketplace.uploads import sweep
    from marketplace.uploads.routes import bp as uploads_bp
    from marketplace.users.routes import bp as users_bp
    from marketplace.users.services import user_for_token

    for blueprint in (users_bp, listings_bp, donations_bp, uploads_bp, moderation_bp, keywords_bp):
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    set_token_resolver(app, user_for_token)
    cli.init_app(app)
    sweep.init_app(app)
    with app.app_context():
        security.warm_up()  # the dummy hash of unknown-user logins, made before the first login
    add_refiner(app, openapi_doc.refine)
