"""The notification flow end to end, on the pages of each role against a real server that
delivers its outbox to a real SMTP server on loopback (aiosmtpd): a French-speaking
association asks for an introduction; its region's coordinator receives the e-mail and sees
the unread count, approves with a note; the association sees its unread badge, the note, and
receives the e-mail in French; it accepts, and both sides are told by e-mail."""

from __future__ import annotations

import re
import time

import pytest
from browsing import browser_database, needs_chromium, sign_in_with_password
from mailserver import MailServer
from playwright.sync_api import expect
from servers import serve_app
from test_introductions import set_contacts

from api.app import create_app
from api.pages.i18n import translations
from matcher.principals import Role
from matcher.settings import load_settings
from matcher.store import Store

pytestmark = needs_chromium

NEED = "demo-n-017"  # posted in French by demo-a-07 (Congo, Africa francophone)
ASSOCIATION = "demo-a-07"
REGION = "africa_francophone"
NOTE = "Le formateur peut venir en juillet."


def fr(message: str) -> str:
    return translations("fr").gettext(message)


@pytest.fixture(scope="module")
def mail():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_db(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-notify")
    store = Store(demo_db)
    partners = [p["id"] for p in store.partners()]
    store.close()
    users = {"furaha": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
             "coord-franco": (Role.COORDINATOR, {"regions": [REGION]})}
    target = browser_database(demo_db, folder, users)
    set_contacts(target, {ASSOCIATION: {"name": "Mama Furaha", "email": "furaha@example.org"},
                          **{p: {"email": f"{p}@example.org"} for p in partners}})
    store = Store(target)
    store.set_user_contact("coord-franco", email="coord@example.org", language="en")
    store.close()
    return target


@pytest.fixture(scope="module")
def server(browser_db, mail):
    app = create_app(load_settings(db=browser_db, notify_interval=0.2, **mail.settings()))
    with serve_app(app) as url:
        yield url


def arrived(mail: MailServer, address: str, count: int) -> list:
    """The messages for ``address`` once ``count`` have arrived (a guard against a hang)."""
    deadline = time.monotonic() + 120
    while len(mail.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return mail.to(address)


def test_a_request_approval_and_introduction_reach_everyone(visit, server, mail):
    association, coordinator = visit(locale="fr-FR"), visit(locale="en-GB")

    a = association.page
    a.goto("/signin")
    sign_in_with_password(a, "furaha", button=fr("Sign in"))
    a.goto(f"/needs/{NEED}")
    first = a.locator("section[aria-labelledby=partners-title] li.card").first
    offering_title = first.locator("h3").inner_text()
    first.get_by_role("button", name=fr("Ask for an introduction")).click()
    expect(a.get_by_role("status").first).to_contain_text(offering_title)

    # The coordinator is e-mailed, and sees the request among its notifications.
    [asked] = arrived(mail, "coord@example.org", 1)
    assert offering_title in asked["Subject"]
    c = coordinator.page
    c.goto("/signin")
    sign_in_with_password(c, "coord-franco")
    menu = c.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link", name=re.compile(r"^Notifications 1 unread$"))).to_be_visible()
    menu.get_by_role("link", name=re.compile("^Notifications")).click()
    coordinator.check("notifications-en")
    c.get_by_role("link", name=re.compile(re.escape(offering_title))).first.click()
    c.locator("#approve-note").fill(NOTE)
    c.locator("#form-approve").get_by_role("button", name="Approve").click()
    expect(c.locator("h1 .tag")).to_have_text("Approved")

    # The association: its unread badge, the note on its notifications page, an e-mail in French.
    a.goto("/needs")
    a_menu = a.get_by_role("navigation", name=fr("Main menu"))
    badge = a_menu.get_by_role("link", name=re.compile("^" + fr("Notifications")))
    expect(badge.locator(".badge")).to_contain_text("1")
    badge.click()
    expect(a.locator("main")).to_contain_text(NOTE)
    association.check("notifications-fr")
    [approved] = arrived(mail, "furaha@example.org", 1)
    assert approved["Content-Language"] == "fr"
    assert NOTE in approved.get_content()
    link = re.search(r"/matches/(\d+)", approved.get_content())
    assert link

    # It accepts; both sides are told.
    a.goto(f"/matches/{link.group(1)}")
    a.get_by_role("button", name=fr("Accept the introduction")).click()
    expect(a.get_by_role("heading", name=fr("Your introduction message"))).to_be_visible()
    introduced = arrived(mail, "furaha@example.org", 2)
    assert len(introduced) == 2
    partner_mail = [m for rcpt, m in mail.messages
                    if any(r.startswith("demo-p-") for r in rcpt)]
    deadline = time.monotonic() + 120
    while not partner_mail and time.monotonic() < deadline:
        time.sleep(0.1)
        partner_mail = [m for rcpt, m in mail.messages
                        if any(r.startswith("demo-p-") for r in rcpt)]
    assert len(partner_mail) == 1 and offering_title in partner_mail[0]["Subject"]
