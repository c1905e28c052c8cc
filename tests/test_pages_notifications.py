"""The notification pages: the unread count in the menu, the list with the coordinator's
note, marking read, the settings (and a coordinator's e-mail address), the admin's outbox."""

from __future__ import annotations

import re

from pages_support import page_fixtures, post, sign_in, text_of

from matcher.principals import Principal, Role
from matcher.store import Mail
from matcher.workflow import lifecycle

R1 = "africa_anglophone"
ASSOCIATION = "demo-a-01"
USERS = {
    "nkwanta": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
    "other": (Role.ASSOCIATION, {"association_id": "demo-a-03"}),
    "coord": (Role.COORDINATOR, {"regions": [R1]}),
    "root": (Role.ADMIN, {}),
}
pages_db, app, module_client, client, engine = page_fixtures(USERS)
COORDINATOR = Principal(role=Role.COORDINATOR, regions=frozenset({R1}), label="user coord")
NOTE = "Bring the pit plans to the first session."


def approved_match(engine, need: str, offering: str) -> dict:
    match = engine.store.create_match(
        {"kind": "partner", "need_id": need, "association_id": ASSOCIATION,
         "item_id": offering, "owner_id": "demo-p-01", "score": 1.0},
        actor="test", role="admin")
    return lifecycle.transition(engine, COORDINATOR, match["id"], "approve", note=NOTE)


def badge(html: str) -> str | None:
    found = re.search(r'href="/notifications"[^>]*>[^<]*<span class="badge">([^<]+)<', html)
    return found.group(1) if found else None


def test_an_approval_shows_in_the_menu_and_the_list_with_the_note(client, engine):
    match = approved_match(engine, "demo-n-001", "demo-o-001")
    sign_in(client, "nkwanta")

    page = client.get("/needs")
    listing = client.get("/notifications")

    assert badge(page.text) == "1"
    assert "1 unread" in text_of(page.text)
    assert NOTE in text_of(listing.text)
    assert f'href="/matches/{match["id"]}"' in listing.text
    assert NOTE in text_of(client.get(f"/matches/{match['id']}").text)  # and on the match
    sign_in(client, "other")
    assert badge(client.get("/needs").text) is None  # another association is told nothing


def test_marking_read_clears_the_count(client, engine):
    approved_match(engine, "demo-n-002", "demo-o-003")
    sign_in(client, "nkwanta")
    items = re.findall(r'action="/notifications/(\d+)/read"', client.get("/notifications").text)
    assert items

    response = post(client, f"/notifications/{items[0]}/read", {}, page="/notifications")
    assert response.status_code == 303
    left = re.findall(r'action="/notifications/(\d+)/read"', client.get("/notifications").text)
    assert items[0] not in left
    post(client, "/notifications/read-all", {}, page="/notifications")
    assert badge(client.get("/notifications").text) is None
    assert post(client, "/notifications/999999/read", {},
                page="/notifications").status_code == 404


def test_a_coordinator_sets_an_email_address_and_switches_events_off(client, engine):
    sign_in(client, "coord")
    form = client.get("/notifications/settings")
    assert 'name="email"' in form.text and 'name="requested.email"' in form.text

    bad = post(client, "/notifications/settings",
               {"email": "<script>nope", "requested.app": "on"}, page="/notifications/settings")
    assert bad.status_code == 422
    assert "<script>nope" not in bad.text
    saved = post(client, "/notifications/settings",
                 {"email": "coord@example.org", "mail_language": "pt",
                  "requested.app": "on", "reminder.email": "on"},
                 page="/notifications/settings")

    assert saved.status_code == 303
    assert engine.store.user_contact("coord") == {"email": "coord@example.org",
                                                  "language": "pt"}
    assert engine.store.preferences("user:coord")[("requested", "email")] is False
    assert engine.store.preferences("user:coord")[("reminder", "email")] is True


def test_an_association_has_no_address_of_its_own_here(client):
    sign_in(client, "nkwanta")
    form = client.get("/notifications/settings")
    assert 'name="email"' not in form.text
    assert 'name="approved.email"' in form.text


def test_the_outbox_page_is_the_admins(client, engine):
    engine.store.queue_mail(Mail("someone@example.org", "fr", "Sujet du message", "Corps\n"),
                            "approved")
    sign_in(client, "root")
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert "someone@example.org" in page.text and "Sujet du message" in page.text
    sign_in(client, "coord")
    assert client.get("/admin/outbox").status_code == 404
