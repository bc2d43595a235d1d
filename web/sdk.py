"""The chat SDK's CommonJS files (sdk/) for the browser: each wrapped in one `paipaiSdk.define(...)` call that
names its relative requires, for the loader at /web/sdk-loader.js. No build step: the wrapping happens as the
file is served, and only the files the browser needs (index, core, the browser adapter) are served."""
from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request

SDK_DIR = Path(__file__).resolve().parents[1] / "sdk"
SERVED = re.compile(r"^(index\.js|core/[a-z]+\.js|adapters/browser\.js)$")
REQUIRE = re.compile(r"""\brequire\(\s*["'](\.{1,2}/[^"']+)["']\s*\)""")

bp = Blueprint("sdk", __name__)


def module_source(name: str) -> str:
    """The file `name` (relative to sdk/) as a define call: its relative requires resolved to sdk/ names."""
    source = (SDK_DIR / name).read_text(encoding="utf-8")
    folder = posixpath.dirname(name)
    deps = sorted({posixpath.normpath(posixpath.join(folder, dep)) for dep in REQUIRE.findall(source)})
    return (f"paipaiSdk.define({json.dumps(name)}, {json.dumps(deps)}, function (require, module, exports) {{\n"
            f"{source}\n}});\n")


@bp.get("/sdk/<path:name>")
def sdk_file(name: str) -> Response:
    """One SDK module, wrapped for the browser loader (404 for anything but index, core and the browser adapter)."""
    if not SERVED.match(name) or not (SDK_DIR / name).is_file():
        abort(404)
    from web import CSP_KEY  # the pages' policy; imported here as web imports this module
    response = Response(module_source(name), mimetype="text/javascript")
    response.headers["Content-Security-Policy"] = current_app.extensions[CSP_KEY]
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)
