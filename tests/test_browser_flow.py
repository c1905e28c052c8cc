"""One match from request to outcome, every step on the web pages by the role that takes it, in
three browsers at once against a real server: a French-speaking association asks for an
introduction, its region's coordinator (in English) approves it, the association accepts, the
coordinator sends both introduction messages and records the outcome, and the partner (in
Spanish) reads its message. No step goes through the API or the engine directly.
"""

from __future__ import annotations

import re

import pytest
from browsing import browser_database, needs_chromium, serve, sign_in_with_password
from playwright.sync_api import Page, expect
from test_introductions import set_contacts

from api.pages.i18n import translations
from matcher.principals import Role
from matcher.store import Store

pytestmark = needs_chromium

NEED = "demo-n-017"  # posted in French by demo-a-07 (Congo, Africa francophone)
ASSOCIATION = "demo-a-07"
REGION = "africa_francophone"


def fr(message: str) -> str:
    return translations("fr").gettext(message)


def es(message: str) -> str:
    return translations("es").gettext(message)


@pytest.fixture(scope="module")
def browser_db(demo_db, tmp_path_factory):
    """The demo data with contacts for everyone, and a web user per role: the association, its
    region's coordinator, and one user for every partner (which one the association picks is
    up to the ranking)."""
    folder = tmp_path_factory.mktemp("browser-flow")
    store = Store(demo_db)
    partners = [p["id"] for p in store.partners()]
    store.close()
    users = {"furaha": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
             "coord-franco": (Role.COORDINATOR, {"regions": [REGION]}),
             **{f"staff-{p}": (Role.PARTNER, {"partner_id": p}) for p in partners}}
    target = browser_database(demo_db, folder, users)
    set_contacts(target, {ASSOCIATION: {"name": "Mama Furaha", "whatsapp": "+243 81 234 5678"},
                          **{p: {"name": f"Desk {p}", "whatsapp": f"+44 7700 9{i:05d}"}
                             for i, p in enumerate(partners)}})
    return target


@pytest.fixture(scope="module")
def server(browser_db):
    with serve(browser_db) as url:
        yield url


def match_id_of(page: Page) -> str:
    found = re.search(r"/(\d+)$", page.url)
    assert found, page.url
    return found.group(1)


def partner_named_in(db, line: str) -> str:
    """The id of the partner a suggestion card names ("Offered by <name>")."""
    store = Store(db)
    try:
        found = [p["id"] for p in store.partners() if p["name"] in line]
    finally:
        store.close()
    assert len(found) == 1, (line, found)
    return found[0]


def test_a_match_goes_from_request_to_outcome_on_the_pages_of_each_role(visit, server,
                                                                       browser_db):
    association = visit(locale="fr-FR")
    coordinator = visit(locale="en-GB")
    partner = visit(locale="es-ES")

    # The association asks for an introduction with its first partner suggestion.
    a = association.page
    a.goto("/signin")
    sign_in_with_password(a, "furaha", button=fr("Sign in"))
    a.goto(f"/needs/{NEED}")
    first = a.locator("section[aria-labelledby=partners-title] li.card").first
    offering_title = first.locator("h3").inner_text()
    by = first.locator(".by").inner_text()
    first.get_by_role("button", name=fr("Ask for an introduction")).click()
    expect(a.get_by_role("status").first).to_contain_text(offering_title)
    association.check("asked-fr")
    a.get_by_role("link", name=fr("My matches"), exact=True).click()
    card = a.locator(".card", has_text=offering_title)
    expect(card).to_contain_text(fr("Requested"))
    association.check("my-matches-proposed-fr")

    # The coordinator finds it in the queue and approves it.
    c = coordinator.page
    c.goto("/signin")
    sign_in_with_password(c, "coord-franco")
    expect(c).to_have_url(re.compile(r"/review$"))
    c.get_by_role("link", name=offering_title).first.click()
    match_id = match_id_of(c)
    expect(c.locator("#need-title + *")).not_to_be_empty()
    coordinator.check("match-proposed-en")
    c.locator("#form-approve").get_by_role("button", name="Approve").click()
    expect(c.locator("h1 .tag")).to_have_text("Approved")
    coordinator.check("match-approved-en")

    # The association accepts the introduction and reads its own message.
    a.goto(f"/matches/{match_id}")
    a.get_by_role("button", name=fr("Accept the introduction")).click()
    expect(a.get_by_role("heading", name=fr("Your introduction message"))).to_be_visible()
    expect(a.locator("main")).to_contain_text(offering_title)
    association.check("introduced-fr")

    # The coordinator sends each side its message and follows up to the outcome.
    c.reload()
    messages = c.locator("article.intro-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0).locator("textarea")).to_have_attribute("lang", "fr")
    links = c.locator("a.whatsapp")
    expect(links).to_have_count(2)
    hrefs = [links.nth(i).get_attribute("href") for i in range(2)]
    assert any(h.startswith("https://wa.me/243812345678?text=") for h in hrefs), hrefs
    coordinator.check("introduce-en")
    c.locator("#form-activate").get_by_role("button").click()
    expect(c.locator("h1 .tag")).to_have_text("Active")
    c.get_by_label("What came of it").select_option("training")
    c.locator("#form-record_outcome").get_by_role("button").click()
    expect(c.locator("h1 .tag")).to_have_text("Outcome recorded")
    history = c.locator("section[aria-labelledby=trail-title]")
    for step in ("Proposed", "Approved", "Introduced", "Active", "Outcome recorded"):
        expect(history).to_contain_text(step)
    coordinator.check("outcome-en")

    # The partner behind the offering sees the match and its own introduction message.
    partner_id = partner_named_in(browser_db, by)
    p = partner.page
    p.goto("/signin")
    sign_in_with_password(p, f"staff-{partner_id}", button=es("Sign in"))
    expect(p).to_have_url(re.compile(r"/partner/offerings$"))
    p.goto("/partner/matches")
    p.get_by_role("link", name=offering_title).first.click()
    expect(p.get_by_role("heading", name=es("Your introduction message"))).to_be_visible()
    expect(p.locator(".message")).to_contain_text("Mama Furaha")
    partner.check("partner-introduced-es")

    # The association's list now shows where the match ended.
    a.goto("/matches")
    expect(a.locator(".card", has_text=offering_title)).to_contain_text(fr("Outcome recorded"))
    association.check("my-matches-outcome-fr")

