"""The admin's pages in a real browser (Playwright driving Debian's headless Chromium against a
real server on loopback, see ``browsing.py``): create a user for an association, create a token
and see it once, revoke it, look at the scorers, import a small exchange file and export
everything; then the new user signs in with the password the admin set. In English and in
Portuguese, every page checked (axe-core, 360 px, weight, console)."""

from __future__ import annotations

import json
import re

from browsing import browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import expect

from matcher.accounts.users import create_user
from matcher.principals import Role
from matcher.store import Store

pytestmark = needs_chromium

USERS = {"root-admin": (Role.ADMIN, {})}
NEW_USER, NEW_PASSWORD = "akosua.mensah", "akosua-initial-password"
DOCUMENT = {"partners": [], "associations": [{
    "id": "a-browser-import", "name": "Browser Import Miners Group", "country": "GH",
    "region": "africa_anglophone", "languages": ["en"], "commodities": ["gold"],
    "members": 25, "description": "Imported through the admin's page.",
    "needs": [{"id": "n-browser-import-1", "text": "We need training on safe use of "
               "explosives.", "category": "ohs"}],
    "practices": []}]}


browser_db, server = browser_fixtures(USERS)


def test_admin_manages_users_tokens_scorers_and_data_then_the_new_user_signs_in(
        visit, server, browser_db, tmp_path):
    v = visit(locale="en-GB", accept_downloads=True)
    page = v.page
    page.goto("/")
    sign_in_with_password(page, "root-admin")
    expect(page).to_have_url(f"{server}/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users and tokens")
    v.check("users-en")

    # A user for an association: a mistake first, then the right password.
    page.get_by_role("link", name="Create a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a user")
    v.check("user-new-en")
    page.get_by_label("Username").fill(NEW_USER)
    page.get_by_label("Initial password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill("not-the-same-password")
    page.get_by_label("Role").select_option("association")
    page.get_by_label("Association (for an association member)").select_option("demo-a-01")
    page.get_by_role("button", name="Create the user").click()
    expect(page.get_by_role("alert")).to_contain_text("The user was not created")
    expect(page.locator("#password2-error")).to_have_text("The two passwords are not the same.")
    expect(page.get_by_label("Username")).to_have_value(NEW_USER)  # kept
    expect(page.get_by_label("Association (for an association member)")) \
        .to_have_value("demo-a-01")
    v.console_errors.clear()  # the 422 itself is logged by the browser
    v.check("user-new-error-en")
    page.get_by_label("Initial password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create the user").click()
    expect(page).to_have_url(re.compile(r"/admin/users\?done=user-created"))
    expect(page.get_by_role("status")).to_have_text(
        f"User {NEW_USER} was created: they can sign in now.")
    card = page.locator("li.card", has=page.get_by_role("heading", name=NEW_USER))
    expect(card).to_contain_text("Nkwanta Small-Scale Miners Association")
    v.check("user-created-en")

    # A token for a partner: shown once, then revoked.
    page.get_by_role("link", name="Create a token").click()
    page.get_by_label("Label").fill("Safe Shafts office")
    page.get_by_label("Role").select_option("partner")
    page.get_by_label("Partner (for a partner)").select_option("demo-p-01")
    v.check("token-new-en")
    page.get_by_role("button", name="Create the token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Token created")
    expect(page.get_by_role("alert")).to_contain_text("it is shown only this once")
    token = page.get_by_label("The new token").input_value()
    assert token.startswith("dm_")
    copy = page.get_by_role("button", name="Copy the token")  # shown with JavaScript only
    copy.click()
    expect(page.locator("button[data-copy=new-token]")).to_have_text("Copied")
    v.check("token-created-en")
    page.get_by_role("link", name="Back to users and tokens").click()
    assert token not in page.content()
    token_card = page.locator("li.card", has_text="Safe Shafts office")
    expect(token_card).to_contain_text("Active")
    token_card.get_by_role("link", name=re.compile(r"^Revoke token \d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Revoke token \d+\?"))
    v.check("token-revoke-en")
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked: it no longer works.")
    expect(token_card).to_contain_text("Revoked on")
    store = Store(browser_db.path)
    try:
        assert store.principal_for(token) is None
    finally:
        store.close()

    # In Portuguese: the scorers, then import and export.
    page.get_by_label("Language", exact=True).select_option("pt")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "pt")
    page.get_by_role("link", name="Pontuadores").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pontuadores")
    cards = page.locator("li.card")
    assert cards.count() >= 7
    expect(cards.filter(has_text="semantic").first).to_contain_text("Embutido")
    expect(page.locator("main")).to_contain_text("Peso para os parceiros")
    v.check("plugins-pt")

    page.get_by_role("link", name="Importar e exportar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importar e exportar")
    v.check("data-pt")
    bad = tmp_path / "bad.json"
    broken = json.loads(json.dumps(DOCUMENT))
    broken["associations"][0]["region"] = "atlantis"
    bad.write_text(json.dumps(broken), encoding="utf-8")
    page.get_by_label(re.compile(r"^Arquivo de intercâmbio")).set_input_files(str(bad))
    page.get_by_role("button", name="Importar o arquivo").click()
    expect(page.get_by_role("alert")).to_contain_text("Nada foi importado")
    expect(page.get_by_role("alert")).to_contain_text("record 'a-browser-import'")
    v.console_errors.clear()  # the 422 itself is logged by the browser
    v.check("import-error-pt")
    good = tmp_path / "groups.json"
    good.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    page.get_by_label(re.compile(r"^Arquivo de intercâmbio")).set_input_files(str(good))
    page.get_by_role("button", name="Importar o arquivo").click()
    expect(page.get_by_role("heading", name="Importado: groups.json")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("O arquivo foi importado.")
    rows = page.locator("table.counts tbody tr")
    expect(rows.filter(has_text="Associações")).to_have_text(re.compile(r"Associações\s*1\s*0\s*0"))
    expect(rows.filter(has_text="Necessidades")).to_have_text(
        re.compile(r"Necessidades\s*1\s*0\s*0"))
    v.check("import-pt")
    with page.expect_download() as download:
        page.get_by_role("link", name="Baixar a exportação (JSON)").click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename.startswith("delve-matcher-")
    assert "a-browser-import" in {a["id"] for a in exported["associations"]}

    # The new user signs in with the password the admin set.
    member = visit(locale="pt-BR")
    member.page.goto("/signin")
    sign_in_with_password(member.page, NEW_USER, NEW_PASSWORD, button="Entrar")
    expect(member.page).to_have_url(f"{server}/needs")
    expect(member.page.get_by_role("heading", level=1)).to_have_text(
        "Nkwanta Small-Scale Miners Association")
    member.check("new-user-needs-pt")


def test_other_roles_see_no_admin_page(visit, server, browser_db):
    store = Store(browser_db.path)
    try:
        create_user(store, "nosy-member", "nosy-member-password", Role.ASSOCIATION,
                          association_id="demo-a-01", replace=True)
    finally:
        store.close()
    v = visit(locale="en-GB")
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "nosy-member", "nosy-member-password")
    expect(page).to_have_url(f"{server}/needs")
    response = page.goto("/admin/users")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("root-admin")
    v.console_errors.clear()  # the 404 itself is logged by the browser
    v.check("admin-not-found-en")
