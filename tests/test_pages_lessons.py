"""The lesson form on a match's page and the library through TestClient: the form appears
once the outcome is recorded, figures are numbers, outsiders find no such page, a lesson
becomes a practice from the library and the library says where a practice came from. Real
model, a copy of the demo database with web users."""

from __future__ import annotations

import re
from html import unescape

import pytest
from lesson_support import match_at_outcome
from pages_support import page_fixtures, post, sign_in

from matcher.principals import Role
from matcher.store import Store

USERS = {"amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
         "neighbour": (Role.ASSOCIATION, {"association_id": "demo-a-12"}),
         "teacher": (Role.ASSOCIATION, {"association_id": "demo-a-07"}),
         "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"})}


def prepare(db) -> None:
    match_at_outcome(db, "demo-n-001", "peer", "demo-pr-009")  # taught by demo-a-07
    match_at_outcome(db, "demo-n-002", "partner", "demo-o-001", until="active")


pages_db, app, module_client, client, engine = page_fixtures(USERS, prepare)


@pytest.fixture(scope="module")
def matches(pages_db) -> dict[str, int]:
    store = Store(pages_db)
    try:
        return {"peer": store.find_match("demo-n-001", "peer", "demo-pr-009")["id"],
                "active": store.find_match("demo-n-002", "partner", "demo-o-001")["id"]}
    finally:
        store.close()


def test_the_form_waits_for_the_outcome(client, matches):
    sign_in(client, "amina")

    active = client.get(f"/matches/{matches['active']}").text
    done = client.get(f"/matches/{matches['peer']}").text

    assert 'action="/matches/%d/lesson"' % matches["active"] not in active
    assert 'action="/matches/%d/lesson"' % matches["peer"] in done
    assert 'inputmode="decimal"' in done


def test_figures_that_are_not_numbers_are_sent_back(client, matches):
    sign_in(client, "amina")

    response = post(client, f"/matches/{matches['peer']}/lesson",
                    {"text": "We learnt a lot.", "worked": "yes", "loan_size": "lots"},
                    page=f"/matches/{matches['peer']}")

    assert response.status_code == 303
    assert response.headers["location"].endswith("problem=figures#lesson")
    assert "The figures are numbers only" in client.get(response.headers["location"]).text


def test_an_outsider_finds_no_lesson_form_to_post_to(client, matches):
    sign_in(client, "neighbour")

    response = post(client, f"/matches/{matches['peer']}/lesson",
                    {"text": "Not mine.", "worked": "yes"}, page="/library")

    assert response.status_code == 404


def test_a_lesson_becomes_a_practice_that_tells_where_it_came_from(client, matches,
                                                                   pages_db):
    sign_in(client, "amina")
    post(client, f"/matches/{matches['peer']}/lesson",
         {"text": "Shaft leaders check the timbering every morning with a checklist.",
          "worked": "yes", "members_trained": "12"}, page=f"/matches/{matches['peer']}")
    library = client.get("/library?q=timbering").text
    assert "Make it a practice of the association" in library

    made = post(client, _promote_path(pages_db), {}, page="/library")

    assert made.status_code == 303 and "done=promoted" in made.headers["location"]
    practice_id = made.headers["location"].split("practice=")[1]
    assert client.get(f"/practices/{practice_id}").status_code == 200
    page = unescape(client.get("/library?q=timbering").text)
    assert "Learned in an exchange" in page and "/practices/demo-pr-009" in page
    assert "Now a practice" in page
    again = post(client, _promote_path(pages_db), {}, page="/library")
    assert again.headers["location"].endswith("problem=promote")
    client.cookies.clear()
    sign_in(client, "partner-user")
    partner_view = client.get("/library?q=timbering").text
    assert "Shaft leaders check the timbering" in partner_view
    assert "Make it a practice" not in partner_view
    assert post(client, _promote_path(pages_db), {}, page="/library").status_code == 404


def test_the_teaching_practice_counts_its_exchange(client, matches):
    sign_in(client, "teacher")  # the counterpart: the association whose practice was taught
    post(client, f"/matches/{matches['peer']}/lesson",
         {"text": "They took our checklist home and used it.", "worked": "yes"},
         page=f"/matches/{matches['peer']}")

    page = unescape(client.get("/library?region=africa_francophone").text)

    assert "Taught to associations: 1; reported it worked: 1." in page
    assert "They took our checklist home" in client.get("/library?q=checklist").text


def _promote_path(db) -> str:
    store = Store(db)
    try:
        lesson_id = store.db.execute("select id from lessons where text like 'Shaft leaders%'"
                                     ).fetchone()[0]
    finally:
        store.close()
    return f"/lessons/{lesson_id}/practice"


def test_the_library_pages_through_what_it_holds_and_keeps_the_filters(client):
    sign_in(client, "amina")
    first = unescape(client.get("/library").text)
    second = unescape(client.get("/library?page=2").text)

    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert "Page 2 of 2" in second and 'href="?page=1"' in second
    card = r'<li class="card practice">\s*<p><a href="/practices/([^"]+)"'  # a practice's own
    ids = [set(re.findall(card, page)) for page in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]  # each practice on one page
    # the links keep the filters (23 practices are of associations mining gold)
    gold = unescape(client.get("/library?commodity=gold").text)
    assert "Page 1 of 2" in gold and 'href="?page=2&commodity=gold"' in gold
