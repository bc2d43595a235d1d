"""Browser tests: headless Debian Chromium driven by Playwright, one browser per module; screenshots of
every screen go to test-artifacts/screenshots/ (not committed)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.pages import Shots

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10000  # every wait is for a condition (no cost when fast); room for a loaded CI machine


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (never a downloaded browser: Debian's, at /usr/bin/chromium)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (`apt-get install chromium`; "
                    ".ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                   "(requirements-dev.txt)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30000)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser) -> Iterator:
    """Make isolated browser contexts (own storage, own network state); all closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 760}, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(backend, request) -> Shots:
    """Save a screenshot of a page under test-artifacts/screenshots/<module>-<backend>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Shots(SCREENSHOTS, f"{request.module.__name__.rsplit('.', 1)[-1]}-{backend}")
