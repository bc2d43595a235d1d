"""HTTP hardening on every response: security headers, no-store for the API, CORS for configured origins.

Also puts werkzeug's ProxyFix in front when TRUSTED_PROXY_COUNT proxies are declared, so
request.remote_addr (rate limits) and request.is_secure (HSTS) come from them and from nobody else:
X-Forwarded-For is never trusted blindly.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

API_PREFIX = "/api/"
# HTML pages (/docs, and the admin and chat pages) load scripts and styles from this host only, no inline
# script. connect-src 'self' also allows ws:// and wss:// to this host (CSP Level 3; Chromium, Firefox).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Anything else (JSON, files) is data, never a document that runs something.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_HEADERS = {"authorization", "content-type", "if-none-match", "accept", "accept-language"}
CORS_EXPOSE = "Retry-After, Location, ETag, WWW-Authenticate"
CORS_MAX_AGE = "600"


def _allowed_origin(origin: str | None) -> str | None:
    """What Access-Control-Allow-Origin says for `origin` (None: the origin may not read the response)."""
    allowed = current_app.config.get("CORS_ORIGINS") or []
    if not origin:
        return None
    if "*" in allowed:
        return "*"  # tokens travel in a header, never cookies: no credentials to share with any origin
    return origin if origin in allowed else None


def _preflight() -> Response | None:
    """Answer a CORS preflight for the API (before routing, auth or body checks touch it)."""
    if (request.method != "OPTIONS" or not request.path.startswith(API_PREFIX)
            or "Access-Control-Request-Method" not in request.headers):
        return None
    response = Response(status=204)
    response.vary.update(("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"))
    origin = _allowed_origin(request.headers.get("Origin"))
    if origin is None:
        return response  # no CORS headers: the browser refuses the real request
    asked = {h.strip().lower() for h in request.headers.get("Access-Control-Request-Headers", "").split(",")}
    response.headers.update({
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Max-Age": CORS_MAX_AGE,
    })
    if asked & CORS_HEADERS:
        response.headers["Access-Control-Allow-Headers"] = ", ".join(sorted(asked & CORS_HEADERS))
    return response


def _harden(response: Response) -> Response:
    # A header the view set is kept; the others are added in one pass (every response comes through here).
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    added = [(name, value) for name, value in BASE_HEADERS.items() if name.lower() not in present]
    if "content-security-policy" not in present:
        added.append(("Content-Security-Policy", PAGE_CSP if response.mimetype == "text/html" else DATA_CSP))
    hsts = current_app.config.get("HSTS_MAX_AGE", 0)
    if hsts and request.is_secure and "strict-transport-security" not in present:
        added.append(("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"))
    api = request.path.startswith(API_PREFIX)
    if api:
        # Tokens and private data must not stay in shared or browser caches; a view that serves
        # something cacheable (uploaded files) says so itself.
        if "cache-control" not in present:
            added.append(("Cache-Control", "no-store"))
        if "vary" in present:
            response.vary.add("Origin")
        else:
            added.append(("Vary", "Origin"))
    headers.extend(added)
    if api:
        origin = _allowed_origin(request.headers.get("Origin"))
        if origin is not None:  # set, not added: a preflight's answer has it already
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    return response


def init_app(app: Flask) -> None:
    """Security headers and CORS on every response; ProxyFix for TRUSTED_PROXY_COUNT proxies."""
    proxies = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)  # type: ignore[method-assign]
    app.before_request_funcs.setdefault(None, []).insert(0, _preflight)
    app.after_request(_harden)
