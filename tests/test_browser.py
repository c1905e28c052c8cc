"""Sign-in, languages, keyboard, no-JavaScript use and the association's pages in a real browser:
Playwright drives Debian's headless Chromium against a real uvicorn server on loopback, over the
demo data and the real model (see ``browsing.py`` for the checks every page passes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browsing import PASSWORD, browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import expect

from api.pages.render import HOME
from matcher.principals import Role
from matcher.store import Store

pytestmark = needs_chromium

NEED = "demo-n-001"  # posted by demo-a-01
OTHER_NEED = "demo-n-004"  # posted by demo-a-02
USERS = {
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "admin-user": (Role.ADMIN, {}),
}
HOMES = {  # who signs in: the heading of their home page
    "amina": "Nkwanta Small-Scale Miners Association",
    "partner-user": "Your offerings",
    "coord-africa": "Review queue",
    "admin-user": "Users and tokens",
}


def _with_a_token(db: Path) -> str:
    """An association token in the database (returned)."""
    store = Store(db)
    try:
        return store.create_token(Role.ASSOCIATION, association_id="demo-a-01",
                                  label="browser test")[1]
    finally:
        store.close()


browser_db, server = browser_fixtures(USERS, _with_a_token)


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
    expect(page.locator("dl.facts").first).to_contain_text("Ghana")
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
    page.get_by_label("Jeton d'accès", exact=True).fill(browser_db.made)
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


@pytest.mark.parametrize("username", HOMES)
def test_every_role_lands_on_its_home(visit, server, username):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, username)
    home = HOME[USERS[username][0]]
    expect(page).to_have_url(f"{server}{home}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOMES[username])
    expect(page.locator(f"nav a[href='{home}']")).to_have_attribute("aria-current", "page")
    v.check(f"home-{username}")


def test_another_associations_need_is_the_not_found_page(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina")
    expect(page).to_have_url(f"{server}/needs")
    response = page.goto(f"/needs/{OTHER_NEED}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    v.console_errors.clear()  # the 404 itself is logged by the browser
    v.check("not-found-en")


def test_the_api_docs_work_offline_under_their_content_security_policy(visit, server):
    """Swagger UI comes from the app itself: it lists the operations, asks nothing of another
    host, and breaks no rule of the page's Content-Security-Policy (a console error)."""
    v = visit()
    elsewhere: list[str] = []
    v.page.on("request", lambda r: r.url.startswith(server) or r.url.startswith("data:")
              or elsewhere.append(r.url))

    response = v.page.goto("/docs")
    v.page.locator(".opblock-summary-path").first.wait_for()

    assert response.status == 200 and "content-security-policy" in response.headers
    assert v.page.locator(".opblock-summary-path").count() >= 30  # every operation listed
    assert elsewhere == []
    assert v.console_errors == []
