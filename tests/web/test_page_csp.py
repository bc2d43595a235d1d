"""The pages' Content-Security-Policy loads images only from this host and the configured media host
(MEDIA_ORIGIN, by default PUBLIC_BASE_URL's origin), plus the page's own blob: URLs: no `http:`/`https:`
wildcard, no `data:`."""
from __future__ import annotations

import pytest

from config import TestingConfig
from tests.support.wsclient import tuned_app


def _img_src(client, url: str = "/chat") -> list[str]:
    csp = client.get(url).headers["Content-Security-Policy"]
    directive = next(part.strip() for part in csp.split(";") if part.strip().startswith("img-src"))
    return directive.split()[1:]


@pytest.mark.parametrize("url", ["/chat", "/admin", "/chat/app.js"])
def test_pages_load_images_from_this_host_only_by_default(client, url):
    assert _img_src(client, url) == ["'self'", "blob:"]


@pytest.mark.parametrize("setting, origin", [
    ({"MEDIA_ORIGIN": "https://media.example.com"}, "https://media.example.com"),
])
def test_the_configured_media_host_is_the_one_other_image_source(clean_app, setting, origin):
    with tuned_app(clean_app, **setting) as app:
        assert _img_src(app.test_client()) == ["'self'", "blob:", origin]


def test_media_origin_defaults_to_the_public_base_urls_origin_and_must_be_an_origin(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://img.paipai.example:8443/some/path")
    assert TestingConfig().MEDIA_ORIGIN == "https://img.paipai.example:8443"
    monkeypatch.setenv("MEDIA_ORIGIN", "https://cdn.paipai.example")
    assert TestingConfig().MEDIA_ORIGIN == "https://cdn.paipai.example"
    for bad in ("*", "https:", "data:", "https://cdn.example; script-src *", "javascript:alert(1)"):
        monkeypatch.setenv("MEDIA_ORIGIN", bad)
        with pytest.raises(RuntimeError):
            TestingConfig()
