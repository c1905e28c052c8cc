"""The association's main flow in a real browser (Playwright, Debian's headless Chromium, a real
uvicorn server over the demo data and the real model): add a need, ask for an introduction from
its suggestions, follow it under "My matches", accept the approved introduction and read its
message; edit the profile; edit and delete a need without JavaScript; a need nothing fits well
yet, and a suggested practice read in full. In French, English, Spanish and Portuguese;
every page passes ``Visit.check`` (axe-core, 360 px, weight, console).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browsing import browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import expect

from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services.profiles import partner_record, to_exchange
from matcher.settings import load_settings
from matcher.workflow import lifecycle

pytestmark = needs_chromium

USERS = {"amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"})}
COORDINATOR = Principal(Role.COORDINATOR, regions=frozenset({"africa_anglophone"}),
                        label="browser test coordinator")
NEED_FR = ("Nos puits s'effondrent à chaque saison des pluies. Nous avons besoin d'une "
           "formation au boisage et à la sécurité des puits pour nos membres.")


def _with_partner_contacts(db: Path) -> None:
    """A WhatsApp contact for every partner."""
    engine = Engine(load_settings(db=db))
    for number, partner in enumerate(engine.store.partners()):
        doc = to_exchange(engine.ref, partner={**partner_record(partner), "contact": {
            "name": f"Contact {number}", "whatsapp": f"+233 20 555 {1000 + number}"}})
        engine.store.update_record("partners", doc.partners[0])
    engine.store.close()


browser_db, server = browser_fixtures(USERS, _with_partner_contacts)


@pytest.fixture(scope="module")
def reviewer(browser_db):
    """The coordinator's side, straight through the lifecycle (their pages are not tested
    here): an engine over the same database file as the server."""
    engine = Engine(load_settings(db=browser_db.path))
    yield engine
    engine.store.close()


def test_association_adds_a_need_asks_for_an_introduction_and_accepts_it(visit, server,
                                                                           reviewer):
    v = visit(locale="fr-FR")
    page = v.page
    page.goto("/signin")
    v.check("signin-fr")
    sign_in_with_password(page, "amina", button="Se connecter")
    expect(page).to_have_url(f"{server}/needs")
    v.check("needs-fr")

    # A new need, in French, marked sensitive.
    page.get_by_label("De quoi avez-vous besoin ?").fill(NEED_FR)
    page.get_by_label("Ce besoin est sensible").check()
    page.get_by_role("button", name="Ajouter le besoin").click()
    # Straight to its suggestions, and an introduction asked for with the first partner's
    # offering.
    expect(page.get_by_role("status")).to_contain_text("Votre besoin a été ajouté.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggestions pour ce besoin")
    v.check("need-added-fr")
    expect(page.locator("blockquote.need")).to_have_text(NEED_FR)
    expect(page.locator(".tag.sensitive")).to_be_visible()
    first = page.locator("section[aria-labelledby=partners-title] li.card").first
    title = first.locator("h3").inner_text()
    v.check("need-suggestions-fr")
    first.get_by_role("button", name="Demander une présentation").click()
    expect(page).to_have_url(re.compile(r"/needs/[^/?]+\?asked=\d+#asked$"))
    expect(page.locator("#asked")).to_contain_text("Votre demande de présentation a été envoyée.")
    expect(page.locator("#asked")).to_contain_text(title)
    asked = page.locator("section[aria-labelledby=partners-title] li.card", has_text=title)
    expect(asked.locator(".asked")).to_contain_text("Demandée")  # its own request
    expect(asked.get_by_role("button", name="Demander une présentation")).to_have_count(0)
    v.check("introduction-asked-fr")

    # Under "My matches", as proposed.
    page.get_by_role("link", name="Mes mises en relation", exact=True).click()
    expect(page).to_have_url(f"{server}/matches")
    match_card = page.locator("li.card", has_text=title)
    expect(match_card.locator(".tag.status-proposed")).to_have_text("Demandée")
    href = match_card.get_by_role("link").get_attribute("href")
    match_id = int(href.rsplit("/", 1)[1])
    v.check("matches-proposed-fr")

    # A coordinator approves it; the association answers, now in English.
    lifecycle.transition(reviewer, COORDINATOR, match_id, "approve")
    page.get_by_label("Langue", exact=True).select_option("en")
    page.get_by_role("button", name="Changer de langue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My matches")
    match_card = page.locator("li.card", has_text=title)
    expect(match_card.locator(".tag.status-approved")).to_have_text("Approved")
    v.check("matches-approved-en")
    match_card.get_by_role("link", name="Answer the introduction").click()
    expect(page).to_have_url(f"{server}/matches/{match_id}")
    expect(page.get_by_role("heading", name="Your answer")).to_be_visible()
    v.check("match-approved-en")
    # no phone, WhatsApp or e-mail on file yet: the page asks for one before accepting
    expect(page.get_by_role("group", name="How can they reach you?")).to_be_visible()
    page.get_by_label("WhatsApp number").fill("+233 24 000 1111")
    page.get_by_role("button", name="Accept the introduction").click()
    expect(page).to_have_url(f"{server}/matches/{match_id}?done=accepted#introduction")
    expect(page.get_by_role("status")).to_contain_text("You accepted the introduction.")
    expect(page.get_by_role("heading", name="Your introduction message")).to_be_visible()
    message = page.locator(".message")
    expect(message).to_contain_text(NEED_FR)  # quotes the need as written
    expect(message.locator("a[href^='https://wa.me/233205551']")).to_have_count(1)
    chat = page.get_by_role("link", name=re.compile(r"^Write to .+ on WhatsApp$"))
    expect(chat).to_have_attribute("href", re.compile(r"^https://wa\.me/233205551\d+\?text="))
    expect(page.get_by_role("button", name="Accept the introduction")).to_have_count(0)
    v.check("match-introduced-en")
    assert reviewer.store.get_match(match_id)["status"] == "introduced"


def test_association_edits_its_profile_and_sees_its_errors_in_spanish(visit, server):
    v = visit(locale="es-ES")
    page = v.page
    page.goto("/signin")
    v.check("signin-es")
    sign_in_with_password(page, "amina", button="Iniciar sesión")
    expect(page.get_by_role("heading", name="Sus necesidades")).to_be_visible()
    v.check("needs-es")
    page.get_by_role("link", name="Perfil").click()
    v.check("profile-es")
    page.get_by_role("link", name="Editar el perfil").click()
    expect(page.get_by_label("Nombre de la asociación")).to_have_value(
        "Nkwanta Small-Scale Miners Association")
    v.check("profile-edit-es")

    page.get_by_label("Miembros").fill("muchos")
    page.get_by_label("Número de WhatsApp").fill("+233 24 000 1111")
    page.get_by_role("button", name="Guardar el perfil").click()
    expect(page.get_by_role("alert")).to_contain_text("No se guardó nada")
    expect(page.locator("#members-error")).to_have_text("Escriba un número entero, como 120.")
    expect(page.get_by_label("Número de WhatsApp")).to_have_value("+233 24 000 1111")  # kept
    v.console_errors.clear()  # the 422 itself is logged by the browser
    v.check("profile-error-es")

    page.get_by_label("Miembros").fill("260")
    page.get_by_role("button", name="Guardar el perfil").click()
    expect(page.get_by_role("status")).to_have_text("Su perfil se ha guardado.")
    expect(page.locator("dl.facts").first).to_contain_text("260")
    v.check("profile-saved-es")


def test_a_need_is_edited_and_deleted_without_javascript(visit, server):
    v = visit(locale="en-GB", java_script_enabled=False)
    page = v.page
    page.goto("/signin")
    v.check("signin-en-nojs", axe=False)  # axe-core needs JavaScript
    sign_in_with_password(page, "amina")
    v.check("needs-en-nojs", axe=False)
    page.get_by_label("What do you need?").fill("We need rubber boots for forty members.")
    page.get_by_role("button", name="Add the need").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggestions for this need")
    page.goto("/needs")
    card = page.locator("li.card", has_text="rubber boots")
    expect(card).to_have_count(1)
    v.check("need-added-en-nojs", axe=False)
    card.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the need")
    v.check("need-edit-en-nojs", axe=False)
    page.get_by_label("What do you need?").fill("We need rubber boots and helmets for "
                                                "forty members.")
    page.get_by_label("Topic (optional)").select_option("ohs")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Your need was saved.")
    card = page.locator("li.card", has_text="rubber boots and helmets")
    expect(card.locator(".tag")).to_have_text("Occupational health and safety")
    v.check("need-saved-en-nojs", axe=False)

    card.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete this need?")
    v.check("need-delete-en-nojs", axe=False)
    page.get_by_role("link", name="No, keep it").click()
    expect(page.locator("li.card", has_text="rubber boots and helmets")).to_have_count(1)
    v.check("need-kept-en-nojs", axe=False)
    page.locator("li.card", has_text="rubber boots and helmets") \
        .get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete the need").click()
    expect(page.get_by_role("status")).to_have_text("The need was deleted.")
    expect(page.locator("li.card", has_text="rubber boots")).to_have_count(0)
    v.check("need-deleted-en-nojs", axe=False)


def test_keyboard_alone_asks_for_an_introduction(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina")
    v.check("needs-en")
    page.goto("/needs/demo-n-002")
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == \
                "Ask for an introduction":
            break
    else:
        pytest.fail("no 'Ask for an introduction' button is reachable with Tab")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    v.check("need-keyboard-en")
    page.keyboard.press("Enter")
    expect(page.locator("#asked")).to_contain_text("Your request for an introduction was sent.")
    v.check("introduction-asked-keyboard-en")


def test_a_weak_list_says_so_and_a_suggested_practice_opens_in_portuguese(visit, server):
    v = visit(locale="pt-BR")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina", button="Entrar")
    expect(page.locator("html")).to_have_attribute("lang", "pt")
    # A need nothing in the exchange fits.
    need = ("Queremos criar um coro para que os filhos dos nossos membros cantem juntos aos "
            "domingos.")
    page.get_by_label("Do que você precisa?").fill(need)
    page.get_by_role("button", name="Adicionar a necessidade").click()  # lands on its suggestions
    expect(page.locator("#added")).to_contain_text("Sua necessidade foi adicionada.")
    expect(page.locator("#no-good-partner")).to_contain_text(
        "Ainda não existe nenhuma correspondência forte para esta necessidade.")
    expect(page.locator("#no-good-partner")).to_contain_text("Um coordenador da sua rede foi avisado")
    expect(page.locator(".strength").first).to_have_text(re.compile(r"^\S.* · \d{1,3}\s?%$"))
    v.check("need-weak-pt")
    peers = page.locator("section[aria-labelledby=peers-title] li.card")
    link = peers.first.get_by_role("link", name="Ler toda a prática")
    href = link.get_attribute("href")
    link.click()
    expect(page).to_have_url(f"{server}{href}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Uma prática de")
    v.check("practice-pt")
