"""The coordinator's pages in a real browser: Playwright drives Debian's headless Chromium
against a real uvicorn server on loopback, over the demo data and the real model. Matches are
proposed through the engine in the fixture; the association's acceptance is done in the test
through the lifecycle, as the association would on its own pages. Every page visited passes
``Visit.check`` (axe-core, 360 px, weight, console; screenshots in tests/artifacts/).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from browsing import browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import expect
from test_introductions import set_contacts

from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from matcher.store import Store
from matcher.workflow import lifecycle

pytestmark = needs_chromium

R1, R2 = "africa_anglophone", "africa_francophone"
FRENCH_NEED = "demo-n-017"  # demo-a-07, Congo (DRC), writes French
ENGLISH_PARTNER = "demo-p-16"  # ASM Voices Campaign, English first
USERS = {
    "coord-franco": (Role.COORDINATOR, {"regions": [R2]}),
    "coord-africa": (Role.COORDINATOR, {"regions": [R1]}),
}
ADMIN = Principal(Role.ADMIN, label="browser tests")
CONTACTS = {"demo-a-07": {"name": "Mama Furaha", "whatsapp": "+243 81 234 5678"},
            ENGLISH_PARTNER: {"name": "Grace", "whatsapp": "+44 7700 900123"}}


def propose(engine: Engine, need_id: str, kind: str = "partner", owner: str | None = None,
            skip: int = 0) -> int:
    """Propose a current suggestion for the need (of ``owner``; the ``skip``-th one)."""
    found = [s for s in engine.suggest(need_id, kind, limit=40).suggestions
             if owner is None or s.owner_id == owner]
    return lifecycle.propose(engine, ADMIN, need_id, kind, found[skip].item_id)["id"]


def _with_contacts_and_matches(db: Path) -> dict[str, int]:
    """Contacts, and proposed matches (their ids by what the tests do with them)."""
    set_contacts(db, CONTACTS)
    engine = Engine(load_settings(db=db))
    matches = {
        "introduce": propose(engine, FRENCH_NEED, owner=ENGLISH_PARTNER),
        "reject": propose(engine, FRENCH_NEED, owner="demo-p-09"),
        "bulk_a": propose(engine, "demo-n-020"),
        "bulk_b": propose(engine, "demo-n-023"),
        "peer": propose(engine, "demo-n-001", "peer"),
        "english": propose(engine, "demo-n-001"),
        "english_bulk": propose(engine, "demo-n-004"),
        "nojs": propose(engine, "demo-n-026"),
    }
    engine.store.close()
    return matches


browser_db, server = browser_fixtures(USERS, _with_contacts_and_matches)


@pytest.fixture
def lifecycle_on(browser_db):
    """The lifecycle over the server's database file, as another page would drive it."""
    store = Store(browser_db.path, check_same_thread=False)
    yield SimpleNamespace(store=store)
    store.close()


def test_coordinator_approves_introduces_records_an_outcome_rejects_and_bulk_approves_in_french(
        visit, server, browser_db, lifecycle_on):
    matches = browser_db.made
    v = visit(locale="fr-FR", permissions=["clipboard-read", "clipboard-write"])
    page = v.page
    page.goto("/")
    sign_in_with_password(page, "coord-franco", button="Se connecter")
    expect(page).to_have_url(f"{server}/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("File d'examen")
    expect(page.locator(f"a[href='/review/{matches['english']}']")).to_have_count(0)  # R1
    v.check("queue-fr")

    # Filter: partner offerings of one association's topic, best score first.
    page.get_by_label("Type", exact=True).select_option("partner")
    page.get_by_label("Ordre", exact=True).select_option("-score")
    page.get_by_role("button", name="Afficher", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=partner.*sort=-score"))
    expect(page.locator(f"a[href='/review/{matches['introduce']}']")).to_be_visible()
    v.check("queue-filtered-fr")

    # Open the match: the need and the offering side by side, the signals, and approve it.
    page.locator(f"a[href='/review/{matches['introduce']}']").click()
    expect(page).to_have_url(f"{server}/review/{matches['introduce']}")
    expect(page.get_by_role("heading", name="Le besoin")).to_be_visible()
    expect(page.get_by_role("heading", name="L'offre")).to_be_visible()
    expect(page.locator(".side").nth(1)).to_contain_text("ASM Voices Campaign")
    expect(page.locator("ul.bars")).to_contain_text("Même thème")
    assert page.locator("ul.bars .fill").first.bounding_box()["width"] > 0
    expect(page.locator("ol.trail")).to_contain_text("— → Proposée")
    v.check("match-fr")
    page.get_by_label("Note (facultative)").first.fill("Partenaire joint par téléphone")
    page.get_by_role("button", name="Approuver", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Approuvée")
    expect(page.locator("ol.trail")).to_contain_text("Proposée → Approuvée")
    v.check("approved-fr")

    # The association accepts the introduction (on its own pages); the coordinator introduces.
    association = Principal(Role.ASSOCIATION, association_id="demo-a-07", label="browser")
    lifecycle.transition(lifecycle_on, association, matches["introduce"], "accept")
    page.reload()
    intro = page.locator("section[aria-labelledby=intro-title]")
    expect(intro.get_by_role("heading", name="Présentation")).to_be_visible()
    french = intro.locator("textarea[lang=fr]")
    english = intro.locator("textarea[lang=en]")
    expect(french).to_have_value(re.compile(r"^Bonjour Mama Furaha,"))
    expect(english).to_have_value(re.compile(r"^Hello Grace,"))
    assert french.get_attribute("readonly") is not None
    expect(intro.locator("h3").first).to_contain_text("en français")
    links = intro.locator("a.whatsapp")
    expect(links).to_have_count(2)
    assert links.nth(0).get_attribute("href").startswith("https://wa.me/243812345678?text=")
    assert links.nth(1).get_attribute("href").startswith("https://wa.me/447700900123?text=")
    copy = intro.get_by_role("button", name="Copier le message").first
    expect(copy).to_be_visible()  # shown by the script (progressive enhancement)
    copy.click()
    expect(intro.get_by_role("button", name="Copié")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Bonjour Mama Furaha,")
    v.check("introduce-fr")
    page.get_by_role("button", name="Marquer le suivi comme actif").click()
    expect(page.get_by_role("status")).to_have_text("Le suivi est marqué comme actif.")
    page.get_by_label("Ce qui en est sorti").select_option("training")
    page.get_by_role("button", name="Enregistrer le résultat").click()
    expect(page.get_by_role("status")).to_have_text("Le résultat est enregistré.")
    expect(page.locator("ol.trail")).to_contain_text("Résultat : Formation dispensée")
    v.check("outcome-fr")

    # Reject another match with a reason from the list and a note.
    page.goto(f"/review/{matches['reject']}")
    page.get_by_role("button", name="Rejeter", exact=True).click()  # no reason yet: refused
    expect(page.locator("#reject-reason-error")).to_have_text("Choisissez la raison du rejet.")
    v.console_errors.clear()  # the 422 itself is logged by the browser
    page.get_by_label("Raison", exact=True).select_option("not_eligible")
    page.locator("#reject-note").fill("Ne couvre pas le cobalt")
    page.get_by_role("button", name="Rejeter", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Rejetée")
    expect(page.locator("ol.trail")).to_contain_text(
        "Raison : L'association n'est pas éligible")
    v.check("rejected-fr")

    # Bulk: tick two proposed matches and approve them at once.
    page.get_by_role("link", name="File d'examen", exact=True).click()
    page.get_by_label(f"Sélectionner la mise en relation {matches['bulk_a']}").check()
    page.get_by_label(f"Sélectionner la mise en relation {matches['bulk_b']}").check()
    page.get_by_label("Action", exact=True).select_option("approve")
    page.get_by_role("button", name="Appliquer aux mises en relation cochées").click()
    results = page.locator("section[aria-labelledby=bulk-title]")
    expect(results.get_by_role("heading")).to_have_text("Fait : 2 sur 2")
    expect(results).to_contain_text(f"Mise en relation {matches['bulk_a']} : Approuvée")
    v.check("bulk-fr")

    # The dashboard of the region, with its charts drawn on the server.
    page.get_by_role("link", name="Tableau de bord").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(2)
    expect(page.get_by_role("img", name="Mises en relation par statut")).to_be_visible()
    assert page.locator("#chart-status rect.chart-bar").nth(1).bounding_box()["width"] > 0
    expect(page.locator("dl.figures")).to_contain_text("Taux d'acceptation")
    expect(page.locator("dl.figures")).to_contain_text(re.compile(r"100\s%"))  # 1 accepted
    v.check("dashboard-fr")


def test_coordinator_reviews_a_peer_match_bulk_rejects_and_reads_the_dashboard_in_english(
        visit, server, browser_db):
    matches = browser_db.made
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "coord-africa")
    expect(page).to_have_url(f"{server}/review")
    page.get_by_label("Kind", exact=True).select_option("peer")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=peer"))
    expect(page.locator(f"a[href='/review/{matches['peer']}']")).to_be_visible()
    expect(page.locator(f"a[href='/review/{matches['english']}']")).to_have_count(0)
    v.check("queue-peer-en")

    page.locator(f"a[href='/review/{matches['peer']}']").click()
    expect(page.get_by_role("heading", name="The practice")).to_be_visible()
    expect(page.locator(".side").nth(1)).to_contain_text("A practice of ")
    v.check("match-peer-en")

    # Reject two partner matches at once, with a reason.
    page.get_by_role("link", name="Back to the review queue").click()
    page.get_by_label(f"Select match {matches['english']}").check()
    page.get_by_label(f"Select match {matches['english_bulk']}").check()
    page.get_by_label("Action", exact=True).select_option("reject")
    page.get_by_label("Reason (to reject)").select_option("duplicate")
    page.get_by_role("button", name="Apply to the ticked matches").click()
    expect(page.locator("section[aria-labelledby=bulk-title] h2")).to_have_text("Done: 2 of 2")
    v.check("bulk-reject-en")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("img", name="Matches by status")).to_be_visible()
    expect(page.get_by_role("img", name="Open needs by topic")).to_be_visible()
    page.get_by_text("The figures as a table").first.click()
    expect(page.locator("table.counts").first).to_contain_text("Rejected")
    v.check("dashboard-en")


def test_approving_works_without_javascript(visit, server, browser_db):
    match_id = browser_db.made["nojs"]
    v = visit(locale="en-US", java_script_enabled=False)
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "coord-franco")
    page.locator(f"a[href='/review/{match_id}']").click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page).to_have_url(f"{server}/review/{match_id}?done=approve")
    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(page.locator("ol.trail")).to_contain_text("Proposed → Approved")
    v.check("approved-nojs-en", axe=False)  # axe-core needs JavaScript
