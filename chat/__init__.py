"""Chat: groups, messages, sync, the broker and the WebSocket relay."""
from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    """Register chat's REST routes, its receiver of listing status changes, its report target (messages),
    its say on who dealt about a listing, the keyword rule relay, the notification worker and its documents."""
    from chat import keyword_sync, notify, openapi_doc
    from chat.admin.routes import bp as admin_bp
    from chat.conversations.routes import bp as conversations_bp
    from chat.deals import dealt_in_chat
    from chat.groups.routes import bp as groups_bp
    from chat.listing_events import on_listing_status_changed
    from chat.members.routes import bp as members_bp
    from chat.messages.routes import bp as messages_bp
    from chat.moderation import resolve_reported_message
    from chat.offers.routes import bp as offers_bp
    from chat.rooms.routes import bp as rooms_bp
    from chat.upload_refs import uploads_in_messages
    from core.api import api
    from core.openapi import add_refiner
    from marketplace.listings.counterparties import register_counterparty_source
    from marketplace.moderation.targets import register_report_target
    from marketplace.signals import listing_status_changed
    from marketplace.uploads.sweep import register_upload_references

    for blueprint in (groups_bp, members_bp, messages_bp, rooms_bp, offers_bp, conversations_bp, admin_bp):
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    listing_status_changed.connect(on_listing_status_changed)
    register_report_target("message", resolve_reported_message)
    register_counterparty_source("chat", dealt_in_chat)
    register_upload_references("chat", uploads_in_messages)
    keyword_sync.init_app(app)
    notify.init_app(app)
    openapi_doc.register_components(app)
    add_refiner(app, openapi_doc.refine)
