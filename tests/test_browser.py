"""The web pages in a real browser: Playwright drives Debian's headless Chromium against a real
uvicorn server on loopback, over the demo data and the real model.

Each page visited is screenshotted (tests/artifacts/, 360 px wide), checked with axe-core (0
serious or critical violations), for horizontal overflow at 360 px, for its weight (≤ 100 KB
without cache) and for browser console errors (a blocked inline script or style would show).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from matcher.auth import Role
from matcher.settings import load_settings
from matcher.store import Store

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
           ".ci/run installs it, so CI runs these tests")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What Chromium needs on this machine: no sandbox as root, and no background network traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "browser-test-password"
NEED = "demo-n-001"  # posted by demo-a-01
OTHER_NEED = "demo-n-004"  # posted by demo-a-02
PHONE = {"width": 360, "height": 740}
PAGE_BUDGET = 100 * 1024


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def browser_db(demo_db, tmp_path_factory) -> tuple[Path, str]:
    """A copy of the demo database with web users and an association token."""
    target = tmp_path_factory.mktemp("browser") / "demo.db"
    shutil.copyfile(demo_db, target)
    store = Store(target)
    store.create_user("amina", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    store.create_user("coord-africa", PASSWORD, Role.COORDINATOR, regions=["africa_anglophone"])
    _, token = store.create_token(Role.ASSOCIATION, association_id="demo-a-01",
                                  label="browser test")
    store.close()
    return target, token


@pytest.fixture(scope="module")
def server(browser_db):
    """A real uvicorn server on a free loopback port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(load_settings(db=browser_db[0])), log_level="warning",
                            lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not uv.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uv.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make install does) to get axe-core")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
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
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=button, exact=True).click()


# ---------------------------------------------------------------------- flows
def test_association_signs_in_sees_suggestions_switches_language_and_signs_out(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    v.check("signin-en")

    sign_in_with_password(page, "amina")
    expect(page).to_have_url(f"{server}/needs")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Nkwanta Small-Scale Miners Association")
    expect(page.get_by_role("heading", name="Your needs")).to_be_visible()
    expect(page.get_by_role("heading", name="Your practices")).to_be_visible()
    v.check("needs-en")

    page.locator(f"a[href='/needs/{NEED}']").click()
    expect(page).to_have_url(f"{server}/needs/{NEED}")
    partners = page.locator("section[aria-labelledby=partners-title] li.card")
    peers = page.locator("section[aria-labelledby=peers-title] li.card")
    expect(page.get_by_role("heading", name="Partners who could help")).to_be_visible()
    expect(page.get_by_role("heading", name="Associations that solved something similar")) \
        .to_be_visible()
    assert partners.count() >= 1 and peers.count() >= 1
    first = partners.first
    expect(first.locator(".by")).to_contain_text("Offered by ")
    expect(first.locator("ul.reasons li").first).to_be_visible()
    expect(page.locator("ul.reasons").first).to_contain_text("topic: Occupational health")
    expect(peers.first.locator(".by")).to_contain_text("A practice of ")
    expect(peers.first.locator(".by")).not_to_contain_text("Nkwanta")  # never its own
    first.locator("summary").click()  # each scorer's contribution, as a bar
    bars = first.locator("ul.bars li")
    expect(bars.first).to_be_visible()
    expect(first.locator("ul.bars")).to_contain_text("Same topic")
    assert first.locator(".fill").first.bounding_box()["width"] > 0
    v.check("need-en")

    page.get_by_label("Language", exact=True).select_option("fr")
    page.get_by_role("button", name="Change language").click()
    expect(page).to_have_url(f"{server}/needs/{NEED}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggestions pour ce besoin")
    expect(page.get_by_role("heading", name="Partenaires qui pourraient aider")).to_be_visible()
    expect(page.locator("ul.reasons").first).to_contain_text("thème : Santé et sécurité")
    page.locator("section[aria-labelledby=partners-title] summary").first.click()
    expect(page.locator("ul.bars").first).to_contain_text("Même thème")
    v.check("need-fr")

    page.get_by_role("link", name="Profil").click()
    expect(page.locator("dl.facts")).to_contain_text("Ghana")
    v.check("profile-fr")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{server}/signin?out=1")
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    v.check("signed-out-fr")
    page.goto("/needs")
    expect(page).to_have_url(re.compile(r"/signin\?next=/needs$"))


def test_association_signs_in_with_a_token_in_french(visit, server, browser_db):
    v = visit(locale="fr-FR")  # Accept-Language: fr-FR
    page = v.page
    page.goto(f"/needs/{NEED}")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    page.get_by_label("Jeton d'accès", exact=True).fill(browser_db[1])
    page.get_by_role("button", name="Se connecter avec le jeton").click()
    expect(page).to_have_url(f"{server}/needs/{NEED}")  # back where it was going
    expect(page.get_by_role("heading", name="Associations qui ont résolu un problème semblable")) \
        .to_be_visible()
    assert page.locator("section[aria-labelledby=peers-title] li.card").count() >= 1
    v.check("need-fr-token")
    page.get_by_role("link", name="Retour aux besoins").click()
    expect(page.get_by_role("heading", name="Vos besoins")).to_be_visible()
    v.check("needs-fr-token")


def test_wrong_password_shows_an_error_that_is_announced(visit):
    v = visit(locale="pt-BR")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina", "not-the-password", button="Entrar")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Nome de usuário ou senha incorretos.")
    expect(page.locator("#username")).to_have_value("amina")
    v.console_errors.clear()  # the 401 itself is logged by the browser
    v.check("signin-error-pt")


def test_keyboard_alone_signs_in_and_opens_a_need(visit, server):
    v = visit(locale="es-ES")
    page = v.page
    page.goto("/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    expect(page.locator("a.skip")).to_be_visible()  # shown when focused
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    else:
        pytest.fail("the username field is not reachable with Tab")
    page.keyboard.type("amina")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/needs")
    expect(page.get_by_role("heading", name="Sus necesidades")).to_be_visible()
    link = page.locator(f"a[href='/needs/{NEED}']")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == f"/needs/{NEED}":
            break
    else:
        pytest.fail("the first need's link is not reachable with Tab")
    assert link.evaluate("el => getComputedStyle(el).outlineStyle") != "none"  # focus visible
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/needs/{NEED}")
    expect(page.get_by_role("heading", name="Socios que podrían ayudar")).to_be_visible()
    v.check("need-es-keyboard")


def test_core_flow_works_without_javascript(visit, server):
    v = visit(locale="en-US", java_script_enabled=False)
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina")
    expect(page).to_have_url(f"{server}/needs")
    page.locator(f"a[href='/needs/{NEED}']").click()
    expect(page.locator("ul.reasons").first).to_be_visible()
    page.get_by_label("Language", exact=True).select_option("pt")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", name="Parceiros que poderiam ajudar")).to_be_visible()
    v.check("need-pt-nojs", axe=False)  # axe-core needs JavaScript
    page.get_by_role("button", name="Sair").click()
    expect(page.get_by_role("status")).to_have_text("Você saiu.")


def test_other_roles_and_error_pages(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "coord-africa")
    expect(page).to_have_url(f"{server}/welcome")
    expect(page.get_by_role("heading", name="Coming soon on these pages")).to_be_visible()
    v.check("welcome-coordinator-en")

    other = visit(locale="en-GB")
    other.page.goto("/signin")
    sign_in_with_password(other.page, "amina")
    expect(other.page).to_have_url(f"{server}/needs")
    response = other.page.goto(f"/needs/{OTHER_NEED}")
    assert response.status == 404
    expect(other.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    other.console_errors.clear()  # the 404 itself is logged by the browser
    other.check("not-found-en")
