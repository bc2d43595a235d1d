"""The browser pages: the web chat client at /chat and the admin console at /admin (static files, no build);
both talk to /ws through the chat SDK (sdk/, served by web.sdk)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, send_from_directory

WEB_DIR = Path(__file__).resolve().parent
# Each page: its URL prefix → its folder. /web holds what both pages share (styles, the REST helper).
PAGES = {"chat": WEB_DIR / "chat", "admin": WEB_DIR / "admin", "web": WEB_DIR / "common"}
# Only same-origin files run; the pages have no inline script, style attribute or handler. Images come
# from this host and the media host (MEDIA_ORIGIN, by default PUBLIC_BASE_URL's origin) only, plus
# blob: (the page measures a picked image through an object URL: no network); connect-src 'self'
# covers same-origin ws:/wss:.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src {img_src}; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def page_csp(media_origin: str | None) -> str:
    """The pages' Content-Security-Policy, with the media host's origin allowed for images."""
    return PAGE_CSP.format(img_src=" ".join(["'self'", "blob:", *([media_origin] if media_origin else [])]))

CSP_KEY = "web_page_csp"
bp = Blueprint("web", __name__)


def _file(folder: Path, name: str) -> Response:
    # max_age=0 with ETags: a browser revalidates, so a new release's files are picked up at once.
    response = send_from_directory(folder, name, max_age=0, conditional=True, etag=True)
    response.headers.setdefault("Content-Security-Policy", current_app.extensions[CSP_KEY])
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/chat")
@bp.get("/chat/")
def chat_page() -> Response:
    """The web chat client (buyer or seller)."""
    return _file(PAGES["chat"], "index.html")


@bp.get("/admin")
@bp.get("/admin/")
def admin_page() -> Response:
    """The admin console."""
    return _file(PAGES["admin"], "index.html")


@bp.get("/<any(chat, admin, web):page>/<path:name>")
def asset(page: str, name: str) -> Response:
    """A script, stylesheet or image of a page (404 for anything outside its folder)."""
    return _file(PAGES[page], name)


def init_app(app: Flask) -> None:
    from web.sdk import bp as sdk_bp
    app.extensions[CSP_KEY] = page_csp(app.config.get("MEDIA_ORIGIN"))
    app.register_blueprint(bp)
    app.register_blueprint(sdk_bp)
