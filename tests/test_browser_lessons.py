"""From a request to a lesson in the library, every step on the web pages of the role that
takes it, in a real Chromium against a real server, in two languages: a French-speaking
association asks for an introduction, its region's coordinator (in English) approves it, the
association accepts, the coordinator marks it active and records the outcome; the association
then writes what it learned on its phone-sized match page, and both find it in the library,
each in their language. Every page passes the browser checks (axe, 360 px, weight)."""

from __future__ import annotations

import re

import pytest
from browsing import browser_database, needs_chromium, serve, sign_in_with_password
from playwright.sync_api import expect
from test_browser_flow import match_id_of
from test_introductions import set_contacts

from api.pages.i18n import translations
from matcher.principals import Role

pytestmark = needs_chromium

NEED = "demo-n-017"  # posted in French by demo-a-07 (Congo, Africa francophone)
ASSOCIATION = "demo-a-07"
REGION = "africa_francophone"
LESSON = ("Les chefs de puits vérifient maintenant les boisages chaque matin avec la fiche "
          "du partenaire ; nous commencerions plus tôt, avant la saison des pluies.")


def fr(message: str, **values) -> str:
    return translations("fr").gettext(message) % values if values else \
        translations("fr").gettext(message)


@pytest.fixture(scope="module")
def browser_db(demo_db, tmp_path_factory):
    users = {"furaha": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
             "coord-franco": (Role.COORDINATOR, {"regions": [REGION]})}
    target = browser_database(demo_db, tmp_path_factory.mktemp("browser-lessons"), users)
    set_contacts(target, {ASSOCIATION: {"name": "Mama Furaha", "whatsapp": "+243 81 234 5678"}})
    return target


@pytest.fixture(scope="module")
def server(browser_db):
    with serve(browser_db) as url:
        yield url


def test_a_lesson_goes_from_a_request_to_the_library_in_two_languages(visit, server):
    association = visit(locale="fr-FR")
    coordinator = visit(locale="en-GB")

    # The association asks for an introduction with its first partner suggestion.
    a = association.page
    a.goto("/signin")
    sign_in_with_password(a, "furaha", button=fr("Sign in"))
    a.goto(f"/needs/{NEED}")
    first = a.locator("section[aria-labelledby=partners-title] li.card").first
    offering_title = first.locator("h3").inner_text()
    first.get_by_role("button", name=fr("Ask for an introduction")).click()
    expect(a.get_by_role("status").first).to_contain_text(offering_title)

    # The coordinator approves it; the association accepts; the coordinator follows it up.
    c = coordinator.page
    c.goto("/signin")
    sign_in_with_password(c, "coord-franco")
    c.get_by_role("link", name=offering_title).first.click()
    match_id = match_id_of(c)
    c.locator("#form-approve").get_by_role("button", name="Approve").click()
    expect(c.locator("h1 .tag")).to_have_text("Approved")
    a.goto(f"/matches/{match_id}")
    expect(a.locator("#lesson")).to_have_count(0)  # no lesson before the outcome
    a.get_by_role("button", name=fr("Accept the introduction")).click()
    expect(a.get_by_role("heading", name=fr("Your introduction message"))).to_be_visible()
    c.reload()
    c.locator("#form-activate").get_by_role("button").click()
    expect(c.locator("h1 .tag")).to_have_text("Active")
    c.get_by_label("What came of it").select_option("training")
    c.locator("#form-record_outcome").get_by_role("button").click()
    expect(c.locator("h1 .tag")).to_have_text("Outcome recorded")
    expect(c.get_by_role("heading", name="What did this exchange teach?")).to_be_visible()
    coordinator.check("outcome-invites-a-lesson-en")

    # The association writes what it learned, on its phone, in French.
    a.goto(f"/matches/{match_id}")
    expect(a.get_by_role("heading", name=fr("What did this exchange teach?"))).to_be_visible()
    association.check("lesson-form-fr")
    a.get_by_label(fr("What you did, what worked, what you would do differently")).fill(LESSON)
    a.get_by_label(fr("Yes"), exact=True).check()
    a.get_by_label(fr("Members trained")).fill("18")
    a.get_by_role("button", name=fr("Save the lesson")).click()
    expect(a.get_by_role("status").first).to_contain_text(
        fr("Thank you: your lesson is saved. Others will find it in the library."))
    expect(a.locator("#lesson article.lesson")).to_contain_text(LESSON)
    association.check("lesson-saved-fr")

    # It is in the library, found by its words, for the association (in French)...
    a.get_by_role("link", name=fr("Library"), exact=True).click()
    a.get_by_label(fr("Words to look for")).fill("boisages")
    a.get_by_role("button", name=fr("Search"), exact=True).click()
    card = a.locator("section[aria-labelledby=library-lessons] li.lesson")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(LESSON)
    expect(card).to_contain_text(fr("Written in %(language)s", language="français"))
    expect(card.locator("p.note")).to_have_attribute("lang", "fr")
    association.check("library-fr")

    # ... and for the coordinator (in English), among the French lessons of the network.
    c.goto("/library")
    c.locator("#library-language").select_option("fr")
    c.locator("#library-region").select_option(REGION)
    c.get_by_role("button", name="Search", exact=True).click()
    card = c.locator("section[aria-labelledby=library-lessons] li.lesson", has_text=LESSON)
    expect(card).to_contain_text("Written in French")
    expect(card).to_contain_text("Members trained: 18")
    coordinator.check("library-en")
    c.get_by_role("link", name="The digest to share").click()
    expect(c).to_have_url(re.compile(r"/library/digest"))
    expect(c.locator("main")).to_contain_text(LESSON)
    coordinator.check("digest-en")
