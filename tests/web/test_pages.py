"""The static pages and their assets as served (no browser): types, charset, CSP, no inline code."""
from __future__ import annotations

import re

import pytest

from web import PAGES

PAGE_FILES = sorted(path for folder in PAGES.values() for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("url", ["/chat", "/chat/", "/admin", "/admin/"])
def test_pages_are_utf8_html_with_a_strict_script_policy(client, url):
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    html = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html


@pytest.mark.parametrize("url, content_type", [
    ("/chat/app.js", "text/javascript"), ("/web/sdk-loader.js", "text/javascript"), ("/admin/screens/users.js", "text/javascript"),
    ("/web/base.css", "text/css"), ("/admin/admin.css", "text/css"),
])
def test_assets_are_served_with_their_type(client, url, content_type):
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(content_type)
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", ["/chat/../app.py", "/chat/%2e%2e/app.py", "/web/nothing.js", "/admin/screens/"])
def test_nothing_outside_the_page_folders_is_served(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("path", [p for p in PAGE_FILES if p.suffix == ".html"], ids=lambda p: p.parent.name)
def test_html_has_no_inline_script_style_or_handler(path):
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"\sstyle\s*=|<style", html)


@pytest.mark.parametrize("path", [p for p in PAGE_FILES if p.suffix == ".js"], ids=lambda p: p.name)
def test_scripts_never_put_data_into_markup(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", source)
    assert "http://" not in source and "https://" not in source  # nothing from another host (no CDN)


def test_the_sdk_is_served_wrapped_for_the_loader_with_its_requires(client):
    r = client.get("/sdk/adapters/browser.js")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    source = r.get_data(as_text=True)
    assert source.startswith('paipaiSdk.define("adapters/browser.js", ["core/client.js"], function (require, module, exports) {')
    assert source.rstrip().endswith("});")
    client_js = client.get("/sdk/core/client.js").get_data(as_text=True)
    assert '"core/connection.js"' in client_js.splitlines()[0] and '"core/outbox.js"' in client_js.splitlines()[0]


@pytest.mark.parametrize("url", ["/sdk/adapters/node.js", "/sdk/test/support/wx.js", "/sdk/package.json",
                                 "/sdk/node_modules/ws/index.js", "/sdk/../app.py", "/sdk/core/nothing.js"])
def test_only_the_browser_parts_of_the_sdk_are_served(client, url):
    assert client.get(url).status_code == 404
