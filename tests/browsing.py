"""What every browser test uses: Debian's headless Chromium driven by Playwright, a real uvicorn
server on loopback, and the checks every page must pass.

Loaded as a pytest plugin by ``conftest.py``. A browser test module marks itself with
``pytestmark = needs_chromium``, binds its ``browser_db`` and ``server`` fixtures with
:func:`browser_fixtures` (or builds a module-scoped ``server`` with :func:`browser_database`
and :func:`serve`), and opens pages with the ``visit`` fixture.

``Visit.check`` screenshots the current page (tests/artifacts/, 360 px wide), runs axe-core on
it (0 serious or critical violations), and checks it for horizontal overflow at 360 px, for its
weight (at most 100 KB without cache) and for browser console errors (a blocked inline script or
style would show there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pages_support import database_with_users
from playwright.sync_api import Page, sync_playwright
from servers import serve

from matcher.principals import Role

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
           ".ci/run installs it, so CI runs these tests")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What Chromium needs on this machine: no sandbox as root, and no background network traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "browser-test-password"
PHONE = {"width": 360, "height": 740}
PAGE_BUDGET = 100 * 1024


def browser_database(demo_db: Path, folder: Path, users: dict[str, tuple[Role, dict]]) -> Path:
    """A private copy of the demo database with web ``users`` (username: (role, scope)), all
    with the password :data:`PASSWORD`."""
    return database_with_users(demo_db, folder, users, PASSWORD)


class BrowserDb(NamedTuple):
    """The database a module's server runs on, and what its ``prepare`` made there."""

    path: Path
    made: Any


def browser_fixtures(users: dict[str, tuple[Role, dict]],
                     prepare: Callable[[Path], Any] | None = None) -> tuple:
    """The fixtures of a browser test module, to bind at its top level under their names::

        browser_db, server = browser_fixtures(USERS, prepare)

    ``browser_db``: a :class:`BrowserDb` over the module's copy of the demo data with web
    ``users`` (password :data:`PASSWORD`), then ``prepare``d (what it returns is ``made``);
    ``server``: the URL of a real server over it."""

    @pytest.fixture(scope="module", name="browser_db")
    def browser_db_fixture(demo_db: Path, tmp_path_factory: pytest.TempPathFactory
                           ) -> BrowserDb:
        path = browser_database(demo_db, tmp_path_factory.mktemp("browser"), users)
        return BrowserDb(path, prepare(path) if prepare is not None else None)

    @pytest.fixture(scope="module", name="server")
    def server_fixture(browser_db: BrowserDb) -> Iterator[str]:
        with serve(browser_db.path) as url:
            yield url

    return browser_db_fixture, server_fixture


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make install does) to get axe-core")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser context (a visitor) and the checks every page it sees must pass."""

    def __init__(self, browser, server: str, axe: str, name: str, **context_options):
        self.context = browser.new_context(viewport=PHONE, base_url=server, **context_options)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.axe = axe
        self.name = name
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(
            m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.checked: list[str] = []

    def check(self, label: str, axe: bool = True) -> None:
        """Screenshot, and check accessibility, width, weight and console of the current page."""
        page = self.page
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{self.name}-{label}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert page.locator("meta[name=viewport]").get_attribute("content") == \
            "width=device-width, initial-scale=1"
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= PHONE["width"], f"{label}: {overflow}px wide at 360px"
        weight = page.evaluate(
            "() => performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource')).reduce((n, e) => n + e.decodedBodySize, 0)")
        assert 0 < weight <= PAGE_BUDGET, f"{label}: {weight} bytes"
        if axe:
            page.evaluate(self.axe)  # evaluated over CDP: the page's CSP does not apply
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                " nodes: v.nodes.map(n => n.target.join(' '))}))")
            (ARTIFACTS / f"{self.name}-{label}.axe.json").write_text(
                json.dumps(violations, indent=1), encoding="utf-8")
            serious = [v for v in violations if v["impact"] in ("serious", "critical")]
            assert not serious, f"{label}: axe-core found {json.dumps(serious, indent=1)}"
        assert not self.console_errors, f"{label}: console errors {self.console_errors}"
        self.checked.append(label)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server, axe_source, request):
    """``visit(**context_options)`` opens a new visitor (browser context) on ``server``."""
    visits: list[Visit] = []

    def make(**options) -> Visit:
        v = Visit(browser, server, axe_source, f"{request.node.name}-{len(visits)}", **options)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.close()


def sign_in_with_password(page: Page, username: str, password: str = PASSWORD,
                          button: str = "Sign in") -> None:
    """Fill in and send the sign-in form (``button``: its label in the page's language)."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=button, exact=True).click()
