"""The partner's main flow in a real browser (Playwright, Debian's headless Chromium, a real
uvicorn server over the demo data and the real model): it adds an offering aimed at an existing
need, the offering then appears among that need's suggestions (seen by the association, or its
region's coordinator, in a second browser), and when the partner deactivates it or leaves it no
free slot, it leaves them. In English and in Spanish; every page passes ``Visit.check``.
"""

from __future__ import annotations

import re
from pathlib import Path

from browsing import browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import Page, expect

from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import profiles
from matcher.settings import load_settings
from matcher.workflow import lifecycle

pytestmark = needs_chromium

USERS = {
    "mediation": (Role.PARTNER, {"partner_id": "demo-p-13"}),  # Common Ground Mediation Trust
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),  # Nkwanta, Ghana
    "coord-latam": (Role.COORDINATOR, {"regions": ["latin_america_caribbean"]}),
}
GHANA_NEED = "demo-n-001"  # Nkwanta's pits flood and their walls cave in (gold, licensed)
PERU_NEED = "demo-n-028"  # Nueva Esperanza wants to sell Fairmined gold (Peru, licensed)
DEWATERING = "Rainy-season pit dewatering and wall timbering for gold diggers"
FAIRMINED = "Certificación Fairmined para cooperativas de oro"
INSIZA_NEED = "demo-n-010"  # Insiza's claims blocked by a large mining company's security
MEDIATION = "demo-o-035"  # Common Ground's mediation with large-scale mining companies


def introduce(db: Path) -> None:
    """An introduced match on one of the partner's offerings: Common Ground's mediation for
    Insiza's dispute with a mining company (approved by an admin, accepted by Insiza, which
    gave a WhatsApp number)."""
    engine = Engine(load_settings(db=db))
    try:
        admin = Principal(Role.ADMIN, label="browser test")
        profiles.change_association(engine, admin, "demo-a-04", {
            "contact": {"name": "Sipho", "whatsapp": "+263 77 000 0000"}})
        match = lifecycle.propose(engine, admin, INSIZA_NEED, "partner", MEDIATION)
        lifecycle.transition(engine, admin, match["id"], "approve")
        lifecycle.transition(engine, admin, match["id"], "accept")
    finally:
        engine.store.close()


browser_db, server = browser_fixtures(USERS, introduce)


def partner_cards(page: Page):
    return page.locator("section[aria-labelledby=partners-title] li.card h3")


def test_partner_adds_an_offering_that_is_suggested_until_it_is_deactivated(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/")
    sign_in_with_password(page, "mediation")
    expect(page).to_have_url(f"{server}/partner/offerings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your offerings")
    expect(page.locator("li.card h2")).to_have_text([
        "Mediation between ASM associations and large-scale mining companies",
        "Association governance clinic"])
    v.check("offerings-en")

    page.get_by_role("link", name="Add an offering").click()
    expect(page).to_have_url(f"{server}/partner/offerings/new")
    page.get_by_label("Title", exact=True).fill(DEWATERING)
    page.get_by_label("Description", exact=True).fill(
        "Our engineers visit flooded pits, install pumps and teach timbering of pit walls so "
        "that they stop caving in during the rains.")
    page.get_by_label("Topic", exact=True).select_option(label="Occupational health and safety")
    page.get_by_label("Africa (anglophone)", exact=True).check()
    page.get_by_label("Countries", exact=True).fill("Ghana")  # a name, not a code
    page.get_by_label("English", exact=True).check()
    page.get_by_label("Gold", exact=True).check()
    page.get_by_label("Capacity", exact=True).fill("4")
    page.get_by_label("Valid until", exact=True).fill("2031-06-30")
    expect(page.get_by_label("Active: it can be suggested", exact=True)).to_be_checked()
    v.check("new-offering-en")
    page.get_by_role("button", name="Add the offering").click()

    # Refused by the API's own validation: the message sits by the field, the input is kept.
    expect(page.get_by_role("alert")).to_contain_text("This was not saved")
    expect(page.locator("#countries-error")).to_contain_text("Write country codes of two letters")
    expect(page.get_by_label("Countries", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title", exact=True)).to_have_value(DEWATERING)
    expect(page.get_by_label("Gold", exact=True)).to_be_checked()
    v.console_errors.clear()  # the 422 itself is logged by the browser
    v.check("offering-refused-en")
    page.get_by_label("Countries", exact=True).fill("GH")
    page.get_by_role("button", name="Add the offering").click()

    expect(page).to_have_url(re.compile(rf"{server}/partner/offerings/[^/]+/needs\?done=added"))
    expect(page.get_by_role("status")).to_have_text(
        "The offering was added. These are the needs it fits now.")
    expect(page.get_by_role("heading", name="Needs your offering fits")).to_be_visible()
    v.check("offering-needs-en")
    page.get_by_role("link", name="Back to your offerings").click()
    card = page.locator("li.card", has_text=DEWATERING)
    expect(card).to_contain_text("Can be suggested now.")
    expect(card).to_contain_text("0 of 4")
    expect(card).to_contain_text("June 30, 2031")
    v.check("offering-added-en")

    # The association opens its need, in another browser: the new offering is suggested.
    association = visit(locale="en-GB")
    association.page.goto(f"/needs/{GHANA_NEED}")
    sign_in_with_password(association.page, "amina")
    expect(association.page).to_have_url(f"{server}/needs/{GHANA_NEED}")
    expect(partner_cards(association.page).first).to_have_text(DEWATERING)
    expect(association.page.locator("section[aria-labelledby=partners-title] li.card").first) \
        .to_contain_text("Offered by Common Ground Mediation Trust")
    association.check("need-suggests-it-en")

    # The partner deactivates it: it says so, and it leaves the suggestions.
    card.get_by_role("link", name=f"Edit {DEWATERING}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the offering")
    expect(page.get_by_label("Countries", exact=True)).to_have_value("GH")
    page.get_by_label("Active: it can be suggested", exact=True).uncheck()
    v.check("edit-offering-en")
    page.get_by_role("button", name="Save the offering").click()
    expect(page.get_by_role("status")).to_have_text(
        "The offering was saved. These are the needs it fits now.")
    expect(page.get_by_text("No open need fits this offering now.")).to_be_visible()
    page.get_by_role("link", name="Back to your offerings").click()
    expect(card).to_contain_text("Not suggested now: it is inactive.")
    v.check("offering-inactive-en")

    association.page.reload()
    expect(partner_cards(association.page).first).to_be_visible()
    expect(partner_cards(association.page)).not_to_contain_text([DEWATERING])
    assert DEWATERING not in association.page.content()
    association.check("need-without-it-en")


def test_partner_works_in_spanish_and_a_full_offering_leaves_the_suggestions(visit, server):
    v = visit(locale="en-US")
    page = v.page
    page.goto("/signin")
    page.get_by_label("Language", exact=True).select_option("es")
    page.get_by_role("button", name="Change language").click()
    sign_in_with_password(page, "mediation", button="Iniciar sesión")
    expect(page).to_have_url(f"{server}/partner/offerings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sus ofertas")

    page.get_by_role("link", name="Añadir una oferta").click()
    page.get_by_label("Título", exact=True).fill(FAIRMINED)
    page.get_by_label("Descripción", exact=True).fill(
        "Acompañamos a cooperativas mineras con permisos al día a organizar los registros, la "
        "trazabilidad y la auditoría para vender oro certificado Fairmined.")
    page.get_by_label("Tema", exact=True).select_option(label="Acceso a mercados y precio justo")
    page.get_by_label("América Latina y el Caribe", exact=True).check()
    page.get_by_label("Países", exact=True).fill("pe")
    page.get_by_label("español", exact=True).check()
    page.get_by_label("Oro", exact=True).check()
    page.get_by_label("Solo asociaciones con licencia formal", exact=True).check()
    page.get_by_label("Capacidad", exact=True).fill("muchas")  # not a number
    v.check("new-offering-es")
    page.get_by_role("button", name="Añadir la oferta").click()
    expect(page.locator("#capacity-error")).to_be_visible()
    expect(page.get_by_label("Capacidad", exact=True)).to_have_value("muchas")
    expect(page.get_by_label("Países", exact=True)).to_have_value("pe")
    v.console_errors.clear()  # the 422 itself is logged by the browser
    v.check("offering-refused-es")
    page.get_by_label("Capacidad", exact=True).fill("2")
    page.get_by_role("button", name="Añadir la oferta").click()
    expect(page.get_by_role("status")).to_have_text(
        "La oferta se ha añadido. Estas son las necesidades a las que responde ahora.")
    page.get_by_role("link", name="Volver a sus ofertas").click()
    card = page.locator("li.card", has_text=FAIRMINED)
    expect(card).to_contain_text("Puede sugerirse ahora.")
    expect(card).to_contain_text("Perú")
    expect(card).to_contain_text("Se exige una licencia formal")
    v.check("offering-added-es")

    # The region's coordinator, in Spanish, sees it suggested for the Peruvian need.
    coordinator = visit(locale="es-PE")
    coordinator.page.goto(f"/needs/{PERU_NEED}")
    sign_in_with_password(coordinator.page, "coord-latam", button="Iniciar sesión")
    expect(coordinator.page).to_have_url(f"{server}/needs/{PERU_NEED}")
    expect(coordinator.page.get_by_role("heading", name="Socios que podrían ayudar")) \
        .to_be_visible()
    expect(partner_cards(coordinator.page).first).to_have_text(FAIRMINED)
    coordinator.check("need-suggests-it-es")

    # No free slot left (capacity 0): it says so, and it leaves the suggestions.
    card.get_by_role("link", name=f"Editar {FAIRMINED}").click()
    page.get_by_label("Capacidad", exact=True).fill("0")
    page.get_by_role("button", name="Guardar la oferta").click()
    expect(page.get_by_text("Ninguna necesidad abierta encaja con esta oferta por ahora."))\
        .to_be_visible()  # a full offering fits no need now
    page.get_by_role("link", name="Volver a sus ofertas").click()
    expect(card).to_contain_text("No se sugiere por ahora: todos los cupos están ocupados.")
    expect(card).to_contain_text("0 de 0")
    v.check("offering-full-es")
    coordinator.page.reload()
    expect(partner_cards(coordinator.page).first).to_be_visible()
    assert FAIRMINED not in coordinator.page.content()
    coordinator.check("need-without-it-es")

    # The matches and the profile, then deleting the offering after a confirmation.
    page.get_by_role("link", name="Emparejamientos", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emparejamientos con sus ofertas")
    match = page.locator("li.card", has_text="Insiza Small Miners Syndicate")
    expect(match).to_contain_text("Presentación hecha")
    v.check("matches-es")
    match.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Su mensaje de presentación")).to_be_visible()
    expect(page.locator("blockquote.need")).to_contain_text("A big mining company")
    expect(page.locator(".message")).to_contain_text("Hello")  # in the partner's language
    chat = page.get_by_role("link", name="Escribir a Insiza Small Miners Syndicate por WhatsApp")
    assert chat.get_attribute("href").startswith("https://wa.me/263770000000?text=")
    v.check("match-introduced-es")
    page.get_by_role("link", name="Perfil", exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("ONG")
    v.check("profile-es")
    page.get_by_role("link", name="Editar el perfil").click()
    page.get_by_label("Número de WhatsApp", exact=True).fill("+57 300 000 0000")
    v.check("profile-edit-es")
    page.get_by_role("button", name="Guardar el perfil").click()
    expect(page.get_by_role("status")).to_have_text("Su perfil se ha guardado.")
    expect(page.locator("dl.facts")).to_contain_text("+57 300 000 0000")

    page.get_by_role("link", name="Ofertas", exact=True).click()
    card.get_by_role("link", name=f"Eliminar {FAIRMINED}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Eliminar esta oferta?")
    v.check("delete-offering-es")
    page.get_by_role("button", name="Sí, eliminar la oferta").click()
    expect(page.get_by_role("status")).to_have_text("La oferta se ha eliminado.")
    expect(page.locator("li.card", has_text=FAIRMINED)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/partner/offerings\?done=deleted$"))


def test_partner_declines_a_match_with_a_reason_and_comments_on_it(visit, server):
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/")
    sign_in_with_password(page, "mediation")
    page.goto("/partner/matches")
    page.locator("li.card", has_text="Insiza Small Miners Syndicate").get_by_role(
        "link").first.click()
    page.get_by_label("No, we decline").check()
    page.get_by_label("Why you decline").select_option("timing")
    page.get_by_label("A note for the coordinators (optional)").fill("Our mediators are "
                                                                      "busy until June.")
    page.get_by_role("button", name="Send the answer").click()
    answer = page.locator("#answer")
    expect(answer.get_by_role("status")).to_contain_text("Your answer was recorded")
    expect(answer).to_contain_text("The partner declined")
    expect(answer).to_contain_text("Not at this time")
    v.check("match-declined-en")

    page.get_by_label("Your comment").fill("We could start with a call in June.")
    page.get_by_role("button", name="Add the comment").click()
    thread = page.locator("#comments")
    expect(thread.get_by_role("status")).to_contain_text("Your comment was added.")
    expect(thread.locator("ol.trail")).to_contain_text("We could start with a call in June.")
    v.check("match-commented-en")
