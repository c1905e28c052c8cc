"""Every page of every role, in each of the four languages, in a real browser: axe-core finds
no serious or critical violation, nothing overflows 360 px, each weighs at most 100 KB with its
assets and logs no console error (``Visit.check``). The pages are those of ``test_pages.PAGES``;
a page route missing from it fails here."""

from __future__ import annotations

import re

import pytest
from browsing import browser_fixtures, needs_chromium, sign_in_with_password
from playwright.sync_api import expect
from test_pages import PAGES, USERS

from api.pages import ROUTERS
from api.pages.i18n import translations
from matcher.reference import UI_LANGUAGES

pytestmark = needs_chromium

browser_db, server = browser_fixtures(USERS)
NOT_PAGES = {"/", "/admin/data/export"}  # a redirect to the caller's home; a JSON download
LOCALES = {"en": "en-GB", "fr": "fr-FR", "es": "es-ES", "pt": "pt-BR"}


def test_every_page_route_without_parameters_is_in_pages():
    routes = {route.path for router in ROUTERS for route in router.routes
              if "GET" in getattr(route, "methods", set()) and "{" not in route.path}
    listed = {path for path in PAGES if "{" not in path}
    assert routes - NOT_PAGES <= listed, sorted(routes - NOT_PAGES - listed)


@pytest.mark.parametrize("lang", UI_LANGUAGES)
@pytest.mark.parametrize("username", sorted({u for u in PAGES.values() if u}) + [None])
def test_every_page_passes_the_browser_checks_in_every_language(visit, username, lang):
    v = visit(locale=LOCALES[lang])
    page = v.page
    if username:
        page.goto("/signin")
        sign_in_with_password(page, username, button=translations(lang).gettext("Sign in"))
        expect(page).not_to_have_url(re.compile(r"/signin"))
    paths = [path for path, user in PAGES.items() if user == username]
    assert paths
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, username)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        v.check(re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") + f"-{lang}")
