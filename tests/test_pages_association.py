"""The association's pages through TestClient, over the demo data and the real model: its
profile editor, its needs' and practices' editors, asking for an introduction from a need's
suggestions, and its matches (accepting or declining an approved introduction).
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from pages_support import csrf_of, page_fixtures, post, sign_in, text_of

from api.pages.association_matches import message_parts
from api.pages.forms import field_name
from api.pages.session import CSRF_FIELD
from matcher.exchange import MAX_TEXT
from matcher.principals import Principal, Role
from matcher.services.profiles import association_record, partner_record, to_exchange
from matcher.workflow import lifecycle

OWN = "demo-a-01"  # Nkwanta, Ghana (africa_anglophone)
OWN_NEED = "demo-n-001"
OTHER_NEED = "demo-n-004"  # demo-a-02, same region
USERS = {
    "amina": (Role.ASSOCIATION, {"association_id": OWN}),
    "other-member": (Role.ASSOCIATION, {"association_id": "demo-a-02"}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
}
COORDINATOR = Principal(Role.COORDINATOR, regions=frozenset({"africa_anglophone"}),
                        label="pages test coordinator")

# ---------------------------------------------------------------------- fixtures
pages_db, app, module_client, client, engine = page_fixtures(USERS)


def own_needs(engine) -> list[dict]:
    return engine.store.needs(OWN)


def partner_cards(html: str) -> list[str]:
    section = html.split('aria-labelledby="partners-title"', 1)[1].split("</section>", 1)[0]
    return section.split('<li class="card">')[1:]


# ---------------------------------------------------------------------- profile
def test_profile_editor_is_filled_in_with_the_profile(client):
    sign_in(client, "amina")
    page = client.get("/profile/edit")
    assert page.status_code == 200
    assert 'value="Nkwanta Small-Scale Miners Association"' in page.text
    assert re.search(r'<option value="GH" selected>Ghana</option>', page.text)
    assert re.search(r'id="language-en" name="language-en" value="1" checked', page.text)
    assert 'id="other_languages"' in page.text and 'value="tw"' in page.text
    assert 'value="240"' in page.text
    assert re.search(r'id="commodity-gold" name="commodity-gold" value="1" checked', page.text)
    assert re.search(r'id="formal_license" name="formal_license" value="1" checked', page.text)
    assert not re.search(r'id="women_led" name="women_led" value="1" checked', page.text)


def _profile_form(**changes) -> dict:
    form = {"name": "Nkwanta Small-Scale Miners Association", "description": "Gold miners.",
            "country": "GH", "language-en": "1", "other_languages": "tw", "members": "240",
            "formal_license": "1", "commodity-gold": "1", "contact_name": "", "contact_phone": "",
            "contact_whatsapp": "", "contact_email": ""}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_saving_the_profile_changes_it_and_says_so(client, engine):
    sign_in(client, "amina")
    response = post(client, "/profile/edit", _profile_form(
        members="1 250", other_languages="tw, FR", women_led="1", **{"commodity-copper": "1"},
        contact_name="Abena Owusu", contact_whatsapp="+233 24 111 2222"))
    assert response.status_code == 303
    assert response.headers["location"] == "/profile?done=profile-saved"
    stored = engine.store.get("associations", OWN)
    assert stored["members"] == 1250 and stored["women_led"] is True
    assert stored["languages"] == ["en", "tw", "fr"]
    assert stored["commodities"] == ["gold", "copper"]
    assert stored["contact"]["whatsapp"] == "+233 24 111 2222"
    assert stored["region"] == "africa_anglophone"
    page = text_of(client.get(response.headers["location"]).text)
    assert "Your profile was saved." in page and "1,250" in page and "Abena Owusu" in page
    # Emptying every contact field clears the contact.
    post(client, "/profile/edit", _profile_form(), page="/profile/edit")
    assert engine.store.get("associations", OWN)["contact"] is None


@pytest.mark.parametrize("changes,field,message", [
    ({"members": "many"}, "members", "Write a whole number, like 120."),
    ({"members": "-3"}, "members", "Write a whole number, like 120."),
    ({"name": "   "}, "name", "Please fill this in."),
    ({"contact_phone": "call me"}, "contact_phone", "Write a phone number"),
    ({"contact_email": "nobody"}, "contact_email", "Write an email address"),
    ({"other_languages": "english"}, "other_languages", "Write language codes"),
    ({"country": "XX"}, "country", "Choose a country from the list."),
])
def test_bad_profile_input_is_refused_next_to_its_field_and_kept(client, engine, changes,
                                                                  field, message):
    sign_in(client, "amina")
    before = engine.store.get("associations", OWN)
    response = post(client, "/profile/edit", _profile_form(**changes))
    assert response.status_code == 422
    assert "This was not saved" in response.text
    assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(message)}',
                     unescape(response.text))
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    for value in changes.values():
        if field != "country" and value.strip():
            assert f'value="{value}"' in response.text  # the input is kept
    assert engine.store.get("associations", OWN) == before  # nothing written


def test_profile_errors_are_translated(client):
    sign_in(client, "amina")
    page = client.get("/profile/edit")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "es"})
    response = post(client, "/profile/edit", _profile_form(members="muchos"))
    assert response.status_code == 422
    assert "Escriba un número entero" in unescape(response.text)


# ---------------------------------------------------------------------- needs
def test_adding_a_sensitive_need_in_french_lists_it_with_its_suggestions(client, engine):
    sign_in(client, "amina")
    text = ("Une de nos membres a été agressée près du puits. Nous cherchons une aide "
            "discrète pour l'accompagner et protéger les femmes du site.")
    response = post(client, "/needs", {"text": text, "category": "", "sensitive": "1"})
    assert response.status_code == 303
    need = next(n for n in own_needs(engine) if n["text"] == text)
    assert need["sensitive"] is True and need["category"] is None
    # Straight to its suggestions: the engine's corpus follows the new need.
    assert response.headers["location"] == f"/needs/{need['id']}?added=1"
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "Your need was added." in page.text
    assert "This need is sensitive" in page.text
    assert partner_cards(page.text)
    listing = client.get("/needs").text
    card = listing.split(f'id="need-{need["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "Sensitive" in card and unescape(card).count(text) == 1
    # the topic guessed from the text shows on the card, spaced from the other words
    guessed = engine.ref.category_label(engine.need_category(need["id"])[0], "en")
    assert f"{guessed} (topic guessed from the text)" in text_of(card)
    for html in (card, page.text):  # a space between the words, not only between the tags
        assert re.search(r'guessed from the text\)</span> <span class="tag sensitive">', html)


@pytest.mark.parametrize("data,field,message", [
    ({"text": "   "}, "text", "Please fill this in."),
    ({"text": "x" * 10_001}, "text", "This is too long: at most 10000 characters."),
    ({"text": "Pumps for the pits.", "category": "mining"}, "category",
     "Choose one of the options."),
])
def test_bad_need_is_refused_and_nothing_is_written(client, engine, data, field, message):
    sign_in(client, "amina")
    before = own_needs(engine)
    response = post(client, "/needs", data, page="/needs")
    assert response.status_code == 422
    assert re.search(rf'id="new-need-{field}-error">{re.escape(message)}', response.text)
    if data.get("category"):
        assert "Pumps for the pits." in response.text  # the text typed in is kept
    assert own_needs(engine) == before


def test_editing_a_need_changes_its_suggestions(client, engine):
    sign_in(client, "amina")
    post(client, "/needs", {"text": "Our pits flood and the walls cave in: we need shoring.",
                            "category": "ohs"}, page="/needs")
    need = own_needs(engine)[-1]
    before = text_of(client.get(f"/needs/{need['id']}").text)
    assert "Occupational health and safety" in before
    form = client.get(f"/needs/{need['id']}/edit")
    assert form.status_code == 200 and 'value="ohs" selected' in form.text
    response = post(client, f"/needs/{need['id']}/edit", {
        "text": "We need a loan to buy a water pump and a small crusher.",
        "category": "finance"})
    assert response.status_code == 303 and "done=need-saved" in response.headers["location"]
    stored = engine.store.get("needs", need["id"])
    assert stored["category"] == "finance" and stored["sensitive"] is None
    after = text_of(client.get(f"/needs/{need['id']}").text)
    assert "Finance and credit" in after and "Occupational health and safety" not in after
    assert engine.need_category(need["id"])[0] == "finance"  # the corpus was rebuilt



def test_a_need_of_the_longest_length_in_accented_french_saves_through_the_page(client,
                                                                                engine):
    sign_in(client, "amina")
    sentence = ("Nos galeries s’effondrent à la saison des pluies ; l’étançonnement, "
                "l’aération et l’éclairage coûtent trop cher. « Sécurité d’abord » … ")
    text = (sentence * (MAX_TEXT // len(sentence) + 1))[:MAX_TEXT - 1] + "."
    assert len(text) == MAX_TEXT
    assert len(urlencode({"text": text})) > 16_384  # the former cap lost such a need
    response = post(client, "/needs", {"text": text, "category": "ohs"}, page="/needs")
    assert response.status_code == 303, response.text[:200]
    need = own_needs(engine)[-1]
    assert response.headers["location"] == f"/needs/{need['id']}?added=1"
    assert need["text"] == text
    assert post(client, f"/needs/{need['id']}/delete", {}).status_code == 303  # leave no trace

def test_a_refused_edit_keeps_the_input_and_the_need(client, engine):
    sign_in(client, "amina")
    before = engine.store.get("needs", OWN_NEED)
    response = post(client, f"/needs/{OWN_NEED}/edit", {"text": "", "category": "ohs",
                                                        "sensitive": "1"})
    assert response.status_code == 422
    assert 'id="need-text-error">Please fill this in.' in response.text
    assert re.search(r'id="need-sensitive" name="sensitive" value="1" checked', response.text)
    assert engine.store.get("needs", OWN_NEED) == before


def test_deleting_a_need_asks_first_then_deletes_it(client, engine):
    sign_in(client, "amina")
    post(client, "/needs", {"text": "A need to delete soon: we need boots."}, page="/needs")
    need = own_needs(engine)[-1]
    confirm = client.get(f"/needs/{need['id']}/delete")
    assert confirm.status_code == 200
    assert "Delete this need?" in confirm.text and "we need boots" in confirm.text
    assert f'action="/needs/{need["id"]}/delete"' in confirm.text
    assert engine.store.get("needs", need["id"]) is not None  # asking deletes nothing
    response = post(client, f"/needs/{need['id']}/delete", {},
                    page=f"/needs/{need['id']}/delete")
    assert response.status_code == 303 and response.headers["location"] == \
        "/needs?done=need-deleted"
    assert engine.store.get("needs", need["id"]) is None
    assert "The need was deleted." in client.get(response.headers["location"]).text


def test_a_need_with_matches_is_not_deleted(client, engine):
    sign_in(client, "amina")
    post(client, "/needs", {"text": "We need someone to teach us pit shoring and timbering.",
                            "category": "ohs"}, page="/needs")
    need = own_needs(engine)[-1]
    first = engine.suggest(need["id"], "partner", 1).suggestions[0]
    lifecycle.propose(engine, COORDINATOR, need["id"], "partner", first.item_id)
    response = post(client, f"/needs/{need['id']}/delete", {},
                    page=f"/needs/{need['id']}/delete")
    assert response.status_code == 409 and "It cannot be deleted" in response.text
    assert engine.store.get("needs", need["id"]) is not None


# ---------------------------------------------------------------------- practices
def test_practices_are_added_edited_and_deleted(client, engine):
    sign_in(client, "amina")

    def own_practices() -> list[dict]:
        return [p for p in engine.store.practices() if p["association_id"] == OWN]

    text = "We built a rain shelter over the wash plant with members' own timber."
    response = post(client, "/practices", {"text": text, "category": "technology"},
                    page="/needs")
    assert response.status_code == 303 and "done=practice-added" in response.headers["location"]
    practice = own_practices()[-1]
    assert practice["text"] == text and practice["category"] == "technology"
    assert text in unescape(client.get("/needs").text)

    edit = client.get(f"/practices/{practice['id']}/edit")
    assert edit.status_code == 200 and "This need is sensitive" not in edit.text
    bad = post(client, f"/practices/{practice['id']}/edit", {"text": " "})
    assert bad.status_code == 422 and engine.store.get("practices", practice["id"]) == practice
    post(client, f"/practices/{practice['id']}/edit", {"text": text + " It cost 40 dollars."})
    assert engine.store.get("practices", practice["id"])["text"].endswith("40 dollars.")
    assert engine.store.get("practices", practice["id"])["category"] is None

    assert "Delete this practice?" in client.get(f"/practices/{practice['id']}/delete").text
    post(client, f"/practices/{practice['id']}/delete", {},
         page=f"/practices/{practice['id']}/delete")
    assert engine.store.get("practices", practice["id"]) is None


# ---------------------------------------------------------------------- who may open what
@pytest.mark.parametrize("path", [f"/needs/{OTHER_NEED}/edit", f"/needs/{OTHER_NEED}/delete",
                                  "/needs/demo-n-nope/edit", "/practices/demo-pr-004/edit",
                                  "/practices/demo-pr-004/delete", "/matches/999999",
                                  "/matches/abc"])
def test_others_records_look_missing(client, path):
    sign_in(client, "amina")
    assert client.get(path).status_code == 404


def test_another_associations_need_cannot_be_changed_or_deleted(client, engine):
    sign_in(client, "amina")
    before = engine.store.get("needs", OTHER_NEED)
    token = csrf_of(client.get("/needs").text)
    for path in (f"/needs/{OTHER_NEED}/edit", f"/needs/{OTHER_NEED}/delete",
                 f"/needs/{OTHER_NEED}/ask"):
        response = client.post(path, data={CSRF_FIELD: token, "text": "changed",
                                            "kind": "partner", "item_id": "demo-o-001"})
        assert response.status_code == 404, path
        assert "changed" not in response.text and before["text"] not in response.text
    assert engine.store.get("needs", OTHER_NEED) == before


@pytest.mark.parametrize("username", ["partner-user", "coord-africa"])
def test_other_roles_cannot_use_the_association_forms(client, engine, username):
    sign_in(client, username)
    count = len(engine.store.needs())
    token = csrf_of(client.get("/signin").text)
    for path in ("/needs", "/practices", "/profile/edit", f"/needs/{OWN_NEED}/ask"):
        response = client.post(path, data={CSRF_FIELD: token, "text": "x", "kind": "partner",
                                            "item_id": "demo-o-001"})
        assert response.status_code == 404, path
    assert len(engine.store.needs()) == count
    for path in ("/matches", "/profile/edit"):
        assert client.get(path, follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------- asking for introductions
def test_asking_for_an_introduction_saves_a_proposed_match_and_confirms_it(client, engine):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}")
    cards = partner_cards(page.text)
    assert all("Ask for an introduction" in card for card in cards)
    item_id = re.search(r'name="item_id" value="([^"]+)"', cards[0]).group(1)
    response = post(client, f"/needs/{OWN_NEED}/ask", {"kind": "partner", "item_id": item_id})
    assert response.status_code == 303
    match = engine.store.find_match(OWN_NEED, "partner", item_id)
    assert match["status"] == "proposed" and match["association_id"] == OWN
    assert response.headers["location"] == f"/needs/{OWN_NEED}?asked={match['id']}#asked"
    trail = engine.store.audit_trail(match["id"])
    assert trail[0]["role"] == "association" and "amina" in trail[0]["actor"]

    confirmed = client.get(response.headers["location"]).text
    assert "Your request for an introduction was sent." in confirmed
    card = next(c for c in partner_cards(confirmed) if f'value="{item_id}"' in c
                or f"/matches/{match['id']}" in c)
    assert "Ask for an introduction" not in card
    assert '<span class="tag status-proposed">Requested</span>' in card

    again = post(client, f"/needs/{OWN_NEED}/ask", {"kind": "partner", "item_id": item_id})
    assert again.status_code == 409 and "cannot be asked for now" in again.text
    assert len(lifecycle.list_matches(engine, COORDINATOR, lifecycle.Filters(
        need_id=OWN_NEED, kind="partner"))[0]) >= 1

    listing = client.get("/matches").text
    assert '<span class="tag status-proposed">Requested</span>' in listing


@pytest.mark.parametrize("data", [{"kind": "partner", "item_id": "demo-o-nope"},
                                  {"kind": "buyer", "item_id": "demo-o-001"}, {}])
def test_asking_for_something_that_is_no_suggestion_is_404(client, engine, data):
    sign_in(client, "amina")
    response = post(client, f"/needs/{OWN_NEED}/ask", data, page=f"/needs/{OWN_NEED}")
    assert response.status_code == 404


def test_a_rejected_pair_is_no_longer_suggested(client, engine):
    sign_in(client, "amina")
    cards = partner_cards(client.get(f"/needs/{OWN_NEED}").text)
    item_id = next(re.search(r'name="item_id" value="([^"]+)"', c).group(1) for c in cards
                   if 'name="item_id"' in c)
    post(client, f"/needs/{OWN_NEED}/ask", {"kind": "partner", "item_id": item_id},
         page=f"/needs/{OWN_NEED}")
    match = engine.store.find_match(OWN_NEED, "partner", item_id)
    lifecycle.transition(engine, COORDINATOR, match["id"], "reject", reason="not_relevant",
                         note="Another partner covers this district.")
    page = client.get(f"/needs/{OWN_NEED}?limit=20").text
    assert f'value="{item_id}"' not in page and f"/matches/{match['id']}" not in page
    listing = text_of(client.get("/matches").text)
    assert "Rejected" in listing and "Reason: Not relevant to the need" in listing
    assert "Another partner covers this district." in listing


# ---------------------------------------------------------------------- my matches
def _approved_match(client, engine, kind: str = "partner") -> dict:
    """A fresh need of the association, asked for through the page and approved."""
    post(client, "/needs", {"text": "We need training on safe blasting and pit shoring.",
                            "category": "ohs"}, page="/needs")
    need = own_needs(engine)[-1]
    item = engine.suggest(need["id"], kind, 1).suggestions[0]
    post(client, f"/needs/{need['id']}/ask", {"kind": kind, "item_id": item.item_id},
         page=f"/needs/{need['id']}")
    match = engine.store.find_match(need["id"], kind, item.item_id)
    return lifecycle.transition(engine, COORDINATOR, match["id"], "approve")


def test_accepting_an_approved_introduction_shows_the_message_with_a_whatsapp_link(client,
                                                                                    engine):
    sign_in(client, "amina")
    match = _approved_match(client, engine)
    partner = engine.store.get("partners", match["owner_id"])
    doc = to_exchange(engine.ref, partner={**partner_record(partner), "contact": {
        "name": "Kwame Boateng", "whatsapp": "+233 20 555 0101"}})
    engine.store.update_record("partners", doc.partners[0])

    listing = client.get("/matches").text
    assert '<span class="tag status-approved">Approved</span>' in listing
    assert "Answer the introduction" in listing
    page = client.get(f"/matches/{match['id']}")
    assert page.status_code == 200
    assert "Accept the introduction" in page.text and "Decline the introduction" in page.text
    assert f'name="version" value="{match["version"]}"' in page.text

    response = post(client, f"/matches/{match['id']}/accept", {
        "version": match["version"], "contact_phone": "+233 20 777 0001"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/matches/{match['id']}?done=accepted#introduction"
    assert engine.store.get_match(match["id"])["status"] == "introduced"
    shown = client.get(response.headers["location"]).text
    assert "You accepted the introduction." in shown
    assert "Your introduction message" in shown and "Accept the introduction" not in shown
    assert "Kwame Boateng" in shown
    assert re.search(r'<a class="button" href="https://wa.me/233205550101\?text=[^"]+"', shown)
    assert "Write to " + partner["name"] in unescape(shown)
    assert "Introduced on" in shown


def test_accepting_asks_for_a_contact_when_there_is_none(client, engine):
    sign_in(client, "amina")
    match = _approved_match(client, engine)
    engine.store.update_record("associations", to_exchange(engine.ref, association={
        **association_record(engine.store.get("associations", "demo-a-01")),
        "contact": None}).associations[0])
    page = client.get(f"/matches/{match['id']}").text
    assert "How can they reach you?" in page and 'name="contact_whatsapp"' in page

    bare = post(client, f"/matches/{match['id']}/accept", {"version": match["version"]},
                page=f"/matches/{match['id']}")
    wrong = post(client, f"/matches/{match['id']}/accept",
                 {"version": match["version"], "contact_email": "not an address"},
                 page=f"/matches/{match['id']}")
    assert bare.status_code == 422 and "Give a phone number" in unescape(bare.text)
    assert wrong.status_code == 422 and "not an address" not in wrong.text
    assert engine.store.get_match(match["id"])["status"] == "approved"

    done = post(client, f"/matches/{match['id']}/accept",
                {"version": match["version"], "contact_whatsapp": "+233 24 000 1111"},
                page=f"/matches/{match['id']}")
    assert done.status_code == 303
    assert engine.store.get("associations", "demo-a-01")["contact"]["whatsapp"] == \
        "+233 24 000 1111"
    assert engine.store.get_match(match["id"])["status"] == "introduced"
    assert "How can they reach you?" not in client.get(f"/matches/{match['id']}").text


def test_declining_closes_the_match(client, engine):
    sign_in(client, "amina")
    match = _approved_match(client, engine, kind="peer")
    response = post(client, f"/matches/{match['id']}/decline",
                    {"version": match["version"], "note": "We found help nearer home."})
    assert response.status_code == 303
    stored = engine.store.get_match(match["id"])
    assert stored["status"] == "closed" and stored["note"] == "We found help nearer home."
    page = client.get(response.headers["location"]).text
    assert "You declined the introduction." in page and "Closed" in page
    assert "Accept the introduction" not in page


def test_a_stale_answer_is_409_and_shows_the_match_as_it_is(client, engine):
    sign_in(client, "amina")
    match = _approved_match(client, engine)
    form = client.get(f"/matches/{match['id']}").text
    lifecycle.transition(engine, COORDINATOR, match["id"], "close", note="Partner withdrew.")
    response = client.post(f"/matches/{match['id']}/accept", data={
        CSRF_FIELD: csrf_of(form), "version": str(match["version"])})
    assert response.status_code == 409
    assert "This match changed in the meantime" in response.text
    assert engine.store.get_match(match["id"])["status"] == "closed"


def test_another_association_never_sees_or_answers_my_match(client, engine):
    sign_in(client, "amina")
    match = _approved_match(client, engine)
    client.cookies.clear()
    sign_in(client, "other-member")
    assert client.get(f"/matches/{match['id']}").status_code == 404
    assert f"/matches/{match['id']}" not in client.get("/matches").text
    response = post(client, f"/matches/{match['id']}/accept", {"version": "1"},
                    page="/matches")
    assert response.status_code == 404
    assert engine.store.get_match(match["id"])["status"] == "approved"


def test_my_matches_dates_follow_the_language(client, engine):
    sign_in(client, "amina")
    _approved_match(client, engine)
    page = client.get("/matches")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = text_of(client.get("/matches").text)
    assert "Mes mises en relation" in french
    assert re.search(r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
                     r"octobre|novembre|décembre) \d{4}", french)


def test_need_page_with_the_most_suggestions_stays_under_100_kb(client):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}?limit=20")
    assert page.text.count("Ask for an introduction") >= 20
    css = client.get("/static/app.css")
    assert len(page.content) + len(css.content) <= 100 * 1024


# ---------------------------------------------------------------------- small parts
def test_only_whatsapp_links_of_a_message_become_links():
    parts = message_parts("Hello.\n- WhatsApp: https://wa.me/233?text=Hi%20there\n"
                          "See https://evil.example/x too.")
    assert parts == [("Hello.\n- WhatsApp: ", False), ("https://wa.me/233?text=Hi%20there", True),
                     ("\nSee https://evil.example/x too.", False)]


def test_error_locations_become_form_fields():
    assert field_name(("contact", "phone")) == "contact_phone"
    assert field_name(("languages", 2)) == "languages"
    assert field_name(()) == "form"


# ---------------------------------------------------------------------- mutual exchanges
def test_the_association_sees_whom_it_could_exchange_with_both_ways(client, engine):
    sign_in(client, "amina")
    page = client.get("/exchanges")
    text = text_of(page.text)
    assert page.status_code == 200 and "Associations you could exchange with" in text
    assert "They could help you" in text and "You could help them" in text
    assert re.search(r"Both ways: \d+%", text)
    # another association's needs appear by their topic only, never their words
    for need in engine.store.needs():
        if need["association_id"] != OWN:
            assert need["text"][:40] not in page.text
    sign_in(client, "partner-user")
    assert client.get("/exchanges", follow_redirects=False).status_code == 303


def test_my_matches_filter_by_status_and_kind(client, engine):
    sign_in(client, "amina")
    approved = _approved_match(client, engine)  # a partner match, approved
    post(client, "/needs", {"text": "We need to learn how other groups keep their records.",
                            "category": "formalisation"}, page="/needs")
    need = own_needs(engine)[-1]
    practice = engine.suggest(need["id"], "peer", 1).suggestions[0].item_id
    post(client, f"/needs/{need['id']}/ask", {"kind": "peer", "item_id": practice},
         page=f"/needs/{need['id']}")
    peer = lifecycle.list_matches(engine, COORDINATOR, lifecycle.Filters(
        need_id=need["id"], kind="peer"))[0][0]

    def shown(**params) -> set[int]:
        page = client.get("/matches", params=params)
        assert page.status_code == 200
        return {int(i) for i in re.findall(r'href="/matches/(\d+)"', page.text)}

    everything = shown()
    assert {approved["id"], peer["id"]} <= everything
    assert approved["id"] in shown(status="approved")
    assert peer["id"] not in shown(status="approved")
    assert peer["id"] in shown(kind="peer") and approved["id"] not in shown(kind="peer")
    assert shown(kind="peer", status="approved") == set()
    assert "No match with these filters." in client.get(
        "/matches", params={"kind": "peer", "status": "approved"}).text
    # a choice that is not on the list is left out, not an error
    assert shown(status="nonsense", kind="buyer") == everything
    page = client.get("/matches", params={"status": "approved"}).text
    assert '<option value="approved" selected>' in page
