"""The search page through TestClient, over a copy of the demo data: needs, offerings and
practices as each role may read them, accents folded, typed syntax harmless."""

from __future__ import annotations

import re

import pytest
from pages_support import page_fixtures, sign_in, text_of

from matcher.exchange import Exchange, Offering, Partner
from matcher.principals import Role
from matcher.store import Store

USERS = {  # username: (role, scope)
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
}
SGBV_NEED = "demo-n-005"  # demo-a-02 (africa_anglophone), sensitive
SGBV_WORDS = "kunyanyaswa"  # a word of its text

# Two offerings that match "quillwort pumps", the better match with the later id.
RANKED = {"o-rank-1": "Quillwort pumps, once, among many other words of a long description "
                      "about loans, training, visits and the rainy season",
          "o-rank-2": "Quillwort pumps: quillwort pumps for quillwort pits"}


def _with_ranked_offerings(db) -> None:
    store = Store(db)
    try:
        store.import_exchange(Exchange(partners=[Partner(id="p-rank", name="Rank", offerings=[
            Offering(id=i, title=f"Offer {i}", description=text, category="finance")
            for i, text in RANKED.items()])]))
    finally:
        store.close()


pages_db, app, module_client, client, engine = page_fixtures(USERS, _with_ranked_offerings)


def links(html: str) -> set[str]:
    return set(re.findall(r'href="(/(?:needs|offerings|practices)/[^"]+)"', html))


def test_search_finds_offerings_and_practices_with_accents_folded(client):
    sign_in(client, "amina")
    page = client.get("/search", params={"q": "securisation couloirs"})

    assert page.status_code == 200
    assert "/offerings/demo-o-015" in links(page.text)  # "Délimitation et sécurisation ..."
    assert "/practices/demo-pr-009" in links(client.get("/search", params={
        "q": "CHEFS de puits"}).text)


def test_the_best_matches_come_first(client):
    sign_in(client, "amina")
    page = client.get("/search", params={"q": "quillwort pumps"}).text

    found = re.findall(r'href="/offerings/(o-rank-\d)"', page)
    assert list(dict.fromkeys(found)) == ["o-rank-2", "o-rank-1"]


def test_a_sensitive_need_is_found_only_by_those_who_may_read_it(client):
    sign_in(client, "coord-africa")
    assert f"/needs/{SGBV_NEED}" in links(client.get("/search", params={"q": SGBV_WORDS}).text)

    sign_in(client, "amina")
    page = client.get("/search", params={"q": SGBV_WORDS})
    assert SGBV_NEED not in page.text and "Nothing found." in text_of(page.text)


def test_partners_search_offerings_only(client):
    sign_in(client, "partner-user")
    page = client.get("/search", params={"q": "mercury"})

    assert page.status_code == 200
    assert not {link for link in links(page.text) if not link.startswith("/offerings/")}
    assert "/offerings/" in page.text and 'id="found-needs"' not in page.text


@pytest.mark.parametrize("typed", ['"', "NEAR(", "title:*", "a" * 500, "--"])
def test_typed_syntax_is_never_an_error_on_the_page(client, typed):
    sign_in(client, "coord-africa")
    page = client.get("/search", params={"q": typed})

    assert page.status_code == 200
    assert 'type="search"' in page.text


def test_every_role_has_search_in_its_menu(client):
    for username in USERS:
        sign_in(client, username)
        nav = re.findall(r'<nav aria-label="Main menu">.*?</nav>', client.get("/search").text,
                         re.DOTALL)[0]
        assert 'href="/search"' in nav
