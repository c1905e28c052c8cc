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


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_the_phone_header_is_compact_and_the_topic_default_fits(visit, lang):
    """At 360 px the header (menu and language form) takes at most 215 of 740 px (it took
    246 in English: the language form alone took three lines), and the Topic select shows
    its default whole."""
    v = visit(locale=LOCALES[lang])
    page = v.page
    page.goto("/signin")
    sign_in_with_password(page, "amina", button=translations(lang).gettext("Sign in"))
    expect(page).to_have_url(re.compile(r"/needs$"))
    height = page.evaluate("document.querySelector('header.top').getBoundingClientRect().height")
    assert height <= 215, f"the header takes {height} px at 360 px"
    language = page.locator(".tools form")
    assert language.evaluate("f => f.getBoundingClientRect().height") <= 40  # one line
    room, text = page.locator("#new-need-category").evaluate(
        """s => { const span = document.createElement('span');
                  span.style.font = getComputedStyle(s).font; span.style.whiteSpace = 'pre';
                  span.textContent = s.options[s.selectedIndex].text;
                  document.body.append(span);
                  const wide = span.getBoundingClientRect().width; span.remove();
                  return [s.clientWidth - 32, wide]; }""")  # 32 px: padding and arrow
    assert text <= room, f"the Topic default needs {text} px, the select shows {room}"


def test_an_introductions_labels_sit_above_their_fields_on_a_wide_screen(visit, server):
    v = visit()
    page = v.page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.set_content(f"""<!doctype html><html lang="en"><head>
        <link rel="stylesheet" href="{server}/static/app.css"></head><body><main>
        <article class="card intro-message"><h3>To X</h3>
        <label for="s">Subject</label><input type="text" id="s" value="Hello" readonly>
        <label for="m">Message</label><textarea id="m" rows="3" readonly>Hi</textarea>
        </article></main></body></html>""")
    page.wait_for_load_state("load")
    boxes = [page.locator(sel).bounding_box() for sel in ("label[for=s]", "#s",
                                                          "label[for=m]", "#m")]
    tops = [b["y"] for b in boxes]
    assert tops == sorted(tops) and len({round(t) for t in tops}) == 4, boxes
