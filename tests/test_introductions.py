"""Introductions: when the association accepts, a ready-to-send message for each side in its own
language, naming both sides, with contacts and WhatsApp click-to-chat links; and sensitive needs,
which a partner reads only as a neutral summary until then.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from support import api_client, make_token

from matcher.exchange import Contact
from matcher.principals import Role
from matcher.store import Store
from matcher.workflow import introductions

URL = "/api/v1/matches"
FRENCH = ("demo-a-07", "demo-n-017")  # fr, sw; Congo (DRC)
SPANISH = ("demo-a-11", "demo-n-028")  # es, qu; Peru
PORTUGUESE = ("demo-a-13", "demo-n-034")  # pt; Brazil
ENGLISH = ("demo-a-01", "demo-n-001")  # en, tw; Ghana
SENSITIVE = ("demo-a-02", "demo-n-005")  # an sgbv need, in Swahili; Tanzania
WHATSAPP = {"demo-a-07": "+243 81 234 5678", "demo-a-11": "0051 984 123 456",
            "demo-a-13": "+55 (91) 98765-4321", "demo-a-01": "+233 20 111 2222"}


def set_contacts(db, contacts: dict[str, dict]) -> None:
    """Give organisations a contact, through the exchange import (the store's public way)."""
    store = Store(db)
    try:
        doc = store.export_exchange()
        for org in [*doc.partners, *doc.associations]:
            if org.id in contacts:
                org.contact = Contact(**contacts[org.id])
        store.import_exchange(doc)
    finally:
        store.close()


@pytest.fixture
def db(demo_copy):
    store = Store(demo_copy)
    partners = [p["id"] for p in store.partners()]
    store.close()
    contacts = {a: {"name": f"Coordinator of {a}", "whatsapp": number, "email": f"{a}@example.org"}
                for a, number in WHATSAPP.items()}
    contacts.update({p: {"name": f"Desk of {p}", "phone": f"+44 20 7946 {i:04d}",
                         "email": f"{p}@example.org"} for i, p in enumerate(partners)})
    set_contacts(demo_copy, contacts)
    return demo_copy


def store_of(client):
    return client.app.state.engines.get().store


def introduce(client, db, admin, association_id: str, need_id: str, kind: str = "partner",
              other_language: str | None = None) -> dict:
    """Propose (as the association), approve (admin) and accept (the association) a match;
    return the accept response. ``other_language``: pick a partner that writes in another one."""
    association = make_token(db, Role.ASSOCIATION, association_id=association_id)
    response = client.get(f"/api/v1/needs/{need_id}/suggestions",
                          params={"kind": kind, "limit": 100}, headers=association)
    suggestions = response.json()["suggestions"]
    if kind == "partner" and other_language:
        partners = {p["id"]: p for p in store_of(client).partners()}
        suggestions = [s for s in suggestions if introductions.partner_language(
            partners[s["partner_id"]]) not in (other_language,)]
    item = suggestions[0]["offering_id" if kind == "partner" else "practice_id"]
    match = client.post(URL, json={"need_id": need_id, "kind": kind, "item_id": item},
                        headers=association).json()
    assert client.post(f"{URL}/{match['id']}/approve", headers=admin).status_code == 200
    accepted = client.post(f"{URL}/{match['id']}/accept", headers=association)
    assert accepted.status_code == 200, accepted.text
    return accepted.json()


def by_recipient(body: dict) -> dict[str, dict]:
    return {m["recipient"]: m for m in body["introduction"]["messages"]}


# ---------------------------------------------------------------------- introductions
def test_accepting_returns_a_message_for_each_side_in_its_language(client, db, admin):
    body = introduce(client, db, admin, *FRENCH, other_language="fr")
    store = store_of(client)
    partner = store.get("partners", body["owner_id"])
    need = store.get("needs", FRENCH[1])
    messages = by_recipient(body)

    assert body["status"] == "introduced"
    assert set(messages) == {"association", "partner"}
    to_association, to_partner = messages["association"], messages["partner"]
    assert to_association["language"] == "fr"
    assert to_partner["language"] == introductions.partner_language(partner) != "fr"
    for message in (to_association, to_partner):
        text = message["text"]
        assert body["association_name"] in text and partner["name"] in text
        assert need["text"] in text and body["item_title"] in text
        assert message["subject"]
    assert "Bonjour" in to_association["text"] and "Votre besoin" in to_association["text"]
    assert to_association["organisation_id"] == FRENCH[0]
    assert to_partner["organisation_id"] == partner["id"]


def test_whatsapp_links_carry_the_number_and_the_message(client, db, admin):
    body = introduce(client, db, admin, *FRENCH, other_language="fr")
    messages = by_recipient(body)
    to_association, to_partner = messages["association"], messages["partner"]

    link = urlparse(to_association["whatsapp_link"])
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/243812345678")
    assert parse_qs(link.query)["text"] == [to_association["text"]]
    assert to_association["contact"]["whatsapp"] == WHATSAPP[FRENCH[0]]
    # the partner has a phone but no WhatsApp number: its phone is used
    partner_link = urlparse(to_partner["whatsapp_link"])
    assert partner_link.path.startswith("/4420794") and "text=" in partner_link.query
    # each message names the other side's contacts, with a plain, readable link to chat with
    # them; the button's link (chat_link) carries a short greeting
    line = next(line for line in to_partner["text"].splitlines() if "wa.me" in line)
    assert line.endswith("https://wa.me/243812345678") and "%" not in to_partner["text"]
    assert f"{FRENCH[0]}@example.org" in to_partner["text"]
    assert f"{body['owner_id']}@example.org" in to_association["text"]
    chat = urlparse(to_partner["chat_link"])
    assert chat.path == "/243812345678"
    greeting = parse_qs(chat.query)["text"][0]
    assert body["association_name"] in greeting and body["owner_name"] in greeting
    assert urlparse(to_association["chat_link"]).path.startswith("/4420794")


def test_an_introduction_names_no_internal_number(client, db, admin):
    body = introduce(client, db, admin, *FRENCH, other_language="fr")
    for message in by_recipient(body).values():
        assert f"({body['id']})" not in message["text"]
        assert not message["text"].rstrip().endswith(")")


@pytest.mark.parametrize("side, language, words", [
    (ENGLISH, "en", "Your need"), (SPANISH, "es", "Su necesidad"),
    (PORTUGUESE, "pt", "A vossa necessidade"), (FRENCH, "fr", "Votre besoin")])
def test_each_template_language_is_used_for_associations(client, db, admin, side, language,
                                                         words):
    body = introduce(client, db, admin, *side)
    to_association = by_recipient(body)["association"]
    assert to_association["language"] == language
    assert words in to_association["text"]
    assert "{{" not in to_association["text"] and "{%" not in to_association["text"]


def test_peer_introduction_writes_to_both_associations(client, db, admin):
    body = introduce(client, db, admin, *SPANISH, kind="peer")
    store = store_of(client)
    messages = by_recipient(body)
    owner = store.get("associations", body["owner_id"])
    practice = store.get("practices", body["item_id"])

    assert set(messages) == {"association", "peer"}
    assert messages["peer"]["organisation_id"] == owner["id"]
    assert messages["peer"]["language"] == introductions.association_language(
        owner, practice["text"])
    for message in messages.values():
        assert owner["name"] in message["text"] and body["association_name"] in message["text"]
        assert practice["text"] in message["text"]


def test_introduction_is_available_later_and_not_before_acceptance(client, db, admin):
    association = make_token(db, Role.ASSOCIATION, association_id=ENGLISH[0])
    item = client.get(f"/api/v1/needs/{ENGLISH[1]}/suggestions",
                      headers=association).json()["suggestions"][0]["offering_id"]
    match = client.post(URL, json={"need_id": ENGLISH[1], "kind": "partner", "item_id": item},
                        headers=association).json()
    url = f"{URL}/{match['id']}/introduction"
    assert client.get(url, headers=admin).status_code == 409
    client.post(f"{URL}/{match['id']}/approve", headers=admin)
    assert client.get(url, headers=association).status_code == 409
    accepted = client.post(f"{URL}/{match['id']}/accept", headers=association).json()
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])

    for headers in (admin, association, partner):
        later = client.get(url, headers=headers)
        assert later.status_code == 200
        assert later.json() == accepted["introduction"]


def test_without_contacts_the_message_says_so_and_has_no_link(demo_copy):
    admin = make_token(demo_copy, Role.ADMIN)
    with api_client(demo_copy) as client:
        body = introduce(client, demo_copy, admin, *ENGLISH)
    for message in body["introduction"]["messages"]:
        assert message["contact"] is None and message["whatsapp_link"] is None
        assert "wa.me" not in message["text"]
    assert "No contact details on file yet" in by_recipient(body)["association"]["text"]


# ---------------------------------------------------------------------- helpers
@pytest.mark.parametrize("languages, text, expected", [
    (["fr", "sw"], "Nos puits sont inondés chaque saison des pluies.", "fr"),
    (["sw", "en"], "Wanawake wanaochenjua mawe wanasumbuliwa.", "en"),
    (["es", "qu"], "Necesitamos acceso a mercados justos para nuestro oro.", "es"),
    (["en", "fr"], "Nous cherchons une formation en sécurité dans les puits.", "fr"),
    (["mg"], "Mila fiofanana momba ny fahasalamana izahay.", "en"),
    ([], "Precisamos de formação em segurança nas minas.", "pt"),
    (["pt"], "", "pt"),
])
def test_association_language(languages, text, expected):
    assert introductions.association_language({"languages": languages}, text) == expected


@pytest.mark.parametrize("contact, expected", [
    ({"whatsapp": "+243 81 234 5678"}, "https://wa.me/243812345678"),
    ({"whatsapp": "00 51 984 123 456"}, "https://wa.me/51984123456"),
    ({"phone": "+55 (91) 98765-4321"}, "https://wa.me/5591987654321"),
    ({"phone": "+1 555 0100", "whatsapp": "+44 7700 900123"}, "https://wa.me/447700900123"),
    ({"email": "a@example.org"}, None),
    ({"phone": "12-34"}, None),
    (None, None),
])
def test_whatsapp_link(contact, expected):
    assert introductions.whatsapp_link(contact) == expected
    if expected:
        with_text = introductions.whatsapp_link(contact, "Olá & bom dia?\nNós")
        assert with_text == expected + "?text=Ol%C3%A1%20%26%20bom%20dia%3F%0AN%C3%B3s"


def test_every_template_exists_in_every_language():
    from matcher.reference import default_data_dir

    folder = default_data_dir() / "templates"
    names = {p.name for p in (folder / "en").iterdir()}
    assert {"introduction.txt.j2", "greeting.txt.j2", "subject.txt.j2"} <= names
    for lang in introductions.TEMPLATE_LANGUAGES:
        assert {p.name for p in (folder / lang).iterdir()} == names, lang


# ---------------------------------------------------------------------- sensitive needs
def test_partner_reads_a_sensitive_need_as_a_summary_until_the_association_accepts(
        client, db, admin):
    association_id, need_id = SENSITIVE
    association = make_token(db, Role.ASSOCIATION, association_id=association_id)
    coordinator = make_token(db, Role.COORDINATOR, regions=["africa_anglophone"])
    store = store_of(client)
    text = store.get("needs", need_id)["text"]
    item = client.get(f"/api/v1/needs/{need_id}/suggestions",
                      headers=association).json()["suggestions"][0]["offering_id"]
    match = client.post(URL, json={"need_id": need_id, "kind": "partner", "item_id": item},
                        headers=association).json()
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    url = f"{URL}/{match['id']}"
    client.post(f"{url}/approve", headers=coordinator, json={"note": text[:40]})

    for headers in (association, coordinator, admin):
        seen = client.get(url, headers=headers).json()
        assert seen["need_text"] == text and not seen["need_text_redacted"]
    before = [client.get(url, headers=partner), client.get(URL, headers=partner),
              client.get(f"{url}/audit", headers=partner),
              client.get(url, headers=partner, params={"lang": "fr"})]
    assert all(r.status_code == 200 for r in before)
    for response in before:
        assert text not in response.text and text[:40] not in response.text
    seen = before[0].json()
    assert seen["need_text_redacted"] and seen["reasons"] == [] and seen["note"] is None
    name = store.get("associations", association_id)["name"]
    assert seen["association_name"] is None
    assert all(name not in r.text for r in before)
    assert "confidential" in seen["need_text"] and "Africa (anglophone)" in seen["need_text"]
    assert "Tanzania" not in seen["need_text"] and seen["association_id"] is None
    assert "Afrique (anglophone)" in before[3].json()["need_text"]
    assert client.get(f"{url}/introduction", headers=partner).status_code == 409

    client.post(f"{url}/accept", headers=association)
    after = client.get(url, headers=partner).json()
    assert after["need_text"] == text and not after["need_text_redacted"]
    assert after["association_name"] == name
    assert text in client.get(f"{url}/introduction", headers=partner).text


def test_a_declined_sensitive_match_never_shows_the_partner_the_text(client, db, admin):
    association_id, need_id = SENSITIVE
    association = make_token(db, Role.ASSOCIATION, association_id=association_id)
    item = client.get(f"/api/v1/needs/{need_id}/suggestions",
                      headers=association).json()["suggestions"][1]["offering_id"]
    match = client.post(URL, json={"need_id": need_id, "kind": "partner", "item_id": item},
                        headers=association).json()
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    client.post(f"{URL}/{match['id']}/approve", headers=admin)
    client.post(f"{URL}/{match['id']}/decline", headers=association, json={"note": "not safe"})
    text = store_of(client).get("needs", need_id)["text"]

    seen = client.get(f"{URL}/{match['id']}", headers=partner)
    assert seen.json()["status"] == "closed" and seen.json()["need_text_redacted"]
    assert text not in seen.text and "not safe" not in seen.text
    assert "not safe" not in client.get(f"{URL}/{match['id']}/audit", headers=partner).text


def test_a_need_that_is_not_sensitive_is_readable_by_the_partner(client, db, admin):
    association = make_token(db, Role.ASSOCIATION, association_id=ENGLISH[0])
    item = client.get(f"/api/v1/needs/{ENGLISH[1]}/suggestions",
                      headers=association).json()["suggestions"][0]["offering_id"]
    match = client.post(URL, json={"need_id": ENGLISH[1], "kind": "partner", "item_id": item},
                        headers=association).json()
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    seen = client.get(f"{URL}/{match['id']}", headers=partner).json()
    assert not seen["need_text_redacted"]
    assert seen["need_text"] == store_of(client).get("needs", ENGLISH[1])["text"]
