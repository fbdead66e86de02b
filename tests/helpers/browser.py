"""A real browser for end-to-end tests: Debian's Chromium driven by Playwright, axe-core injected.

Nothing is downloaded at test time: Playwright drives the system browser through
`executable_path`, and axe-core comes from the npm registry at install time (`make` puts it
under `.venv/npm`). Without either, the tests skip with the reason, unless
`SYNDICATE_REQUIRE_BROWSER=1` (CI sets it) makes that a failure.

Screenshots go to `test-output/screenshots/` (git-ignored), one PNG a page. The `browser` and
`page` fixtures are loaded as a pytest plugin by `tests/conftest.py`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import ROOT

SCREENSHOTS = ROOT / "test-output" / "screenshots"
AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
# Flags for a headless browser on a machine with no network beyond loopback: without the
# background-networking ones Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("SYNDICATE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (SYNDICATE_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def chromium_path() -> str:
    """The system Chromium, or skip (fail when required)."""
    for name in (os.environ.get("SYNDICATE_CHROMIUM", ""), "chromium", "chromium-browser"):
        found = shutil.which(name) if name else None
        if found:
            return found
    _missing("browser tests need Debian's chromium (apt-get install chromium)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (Playwright's sync API).

    Playwright's sync API keeps its event loop running in this thread while it is started:
    held for the whole session, every asyncio test collected after a browser test would fail
    ("Runner.run() cannot be called from a running event loop"). Stopped at the end of the
    module, it leaves the thread as it found it.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("browser tests need the playwright package (pip install -e '.[dev]')")
    path = chromium_path()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, closed after the test."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as `test-output/screenshots/<name>.png`; returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_run(page: Any) -> dict[str, Any]:
    """axe-core's whole result for the page.

    axe is evaluated through the DevTools protocol: a page's Content-Security-Policy (rightly)
    refuses the inline script tag a test would otherwise add.
    """
    if not AXE.is_file():
        _missing("accessibility checks need axe-core from npm (make installs it under .venv/npm)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return dict(json.loads(page.evaluate("async () => JSON.stringify(await axe.run(document))")))


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the page; the violations of the given impacts, one line each."""
    return serious(axe_run(page), impacts)


def serious(
    result: dict[str, Any], impacts: tuple[str, ...] = ("serious", "critical")
) -> list[str]:
    """The violations of an axe result with the given impacts, one line each."""
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v.get("impact") in impacts
    ]


def check_page(page: Any, name: str, counts: dict[str, int]) -> None:
    """axe-core finds no serious or critical violation on the page; it is saved as
    `<name>.png`; `counts[name]` is how many violations of any impact axe found there."""
    found = axe_run(page)
    bad = serious(found)
    counts[name] = len(found["violations"])
    screenshot(page, name)
    assert not bad, f"{name}: {bad}"
