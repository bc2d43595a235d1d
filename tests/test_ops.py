"""Operations: /healthz reports the database and broker honestly and fast; /docs works offline."""
from __future__ import annotations

import re
import socket
import time

import pytest

from core.db import db
from tests.support.apps import make_app

UNREACHABLE_DB = "postgresql+psycopg://127.0.0.1:1/none"



class Broker:
    """The smallest broker: `ping` answers, or raises like a broker that is gone."""

    def __init__(self, alive: bool) -> None:
        self.alive = alive
        self.pings = 0

    def ping(self) -> bool:
        self.pings += 1
        if not self.alive:
            raise ConnectionError("broker unreachable at redis://10.0.0.1:6379")
        return True


@pytest.fixture
def second_app(clean_app, database_url, tmp_path):
    """Another app on the test database, free to get its own broker."""
    app = make_app(tmp_path, database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_is_ok_when_everything_answers(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "db": "ok", "broker": "ok"}
    assert r.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_and_fast_when_the_database_is_unreachable(tmp_path):
    app = make_app(tmp_path, UNREACHABLE_DB)
    started = time.monotonic()
    r = app.test_client().get("/healthz")
    assert time.monotonic() - started < 5
    assert r.status_code == 503
    assert r.get_json() == {"status": "degraded", "db": "down", "broker": "ok"}


def test_healthz_gives_up_on_a_database_that_never_answers(tmp_path):
    # A listening socket that never speaks: TCP connects, the PostgreSQL handshake never ends.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app = make_app(tmp_path, f"postgresql+psycopg://u@127.0.0.1:{silent.getsockname()[1]}/none")
        started = time.monotonic()
        r = app.test_client().get("/healthz")
        elapsed = time.monotonic() - started
    assert r.status_code == 503 and r.get_json()["db"] == "down"
    assert elapsed < 8


def test_healthz_reports_a_broker_that_does_not_answer(second_app):
    broker = Broker(alive=False)
    second_app.extensions["broker"] = broker
    r = second_app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "degraded", "db": "ok", "broker": "down"}
    assert broker.pings == 1 and "10.0.0.1" not in r.get_data(as_text=True)


def test_healthz_pings_a_live_broker(second_app):
    broker = Broker(alive=True)
    second_app.extensions["broker"] = broker
    r = second_app.test_client().get("/healthz")
    assert r.status_code == 200 and r.get_json()["broker"] == "ok" and broker.pings == 1


def test_docs_page_loads_only_its_own_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert not re.search(r"(https?:)?//", html), "the docs page must not reference other hosts"
    assets = re.findall(r'(?:src|<link[^>]*href)="([^"]+)"', html)  # what the page loads (not its <a> links)
    local = [a for a in assets if not a.startswith("data:")]
    for link in re.findall(r'<a href="([^"]+)"', html):  # the AsyncAPI document of /ws, on this host
        assert client.get(link).mimetype == "application/json", link
    assert {a.rsplit(".", 1)[-1] for a in local} == {"css", "js"}
    for asset in local:
        r = client.get(asset)
        assert r.status_code == 200, asset
        assert r.mimetype in ("text/css", "text/javascript", "application/javascript"), asset
        assert len(r.data) > 0
    init = client.get("/docs/static/docs-init.js").get_data(as_text=True)
    spec_url = re.search(r'url: "([^"]+)"', init).group(1)
    assert client.get(spec_url).status_code == 200
    assert "validatorUrl: null" in init  # Swagger UI would otherwise call validator.swagger.io


@pytest.mark.parametrize("path", ["/docs/static/..%2f..%2fapp.py", "/docs/static/../../config/settings.py",
                                  "/docs/static/nope.js"])
def test_docs_assets_do_not_escape_their_directory(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
