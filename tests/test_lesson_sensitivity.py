"""A lesson of a confidential need stays with its association and the region's coordinators
until the association publishes it, and once published it never names the association: on
every path that shows lessons (the API's list, the library page, the digest page, the command
line's export, the partner's match page, the organisation's data export). Its association
writes and publishes it on its match page. Real model, a copy of the demo database with web
users, TestClient; the export runs the real command."""

from __future__ import annotations

import re
from html import unescape

import pytest
from lesson_support import match_at_outcome
from pages_support import page_fixtures, post, sign_in
from support import make_tokens
from typer.testing import CliRunner

from matcher.cli import app as cli_app
from matcher.principals import Role
from matcher.store import Store

R1, R2 = "africa_anglophone", "latin_america_caribbean"
OWNER = "demo-a-02"  # its need demo-n-005 is about sexual violence (sgbv): confidential
SECRET = "Qzx safe walk: the women's committee now walks home together at dusk"
USERS = {"owner": (Role.ASSOCIATION, {"association_id": OWNER}),
         "neighbour": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
         "partner": (Role.PARTNER, {"partner_id": "demo-p-01"}),
         "coordinator": (Role.COORDINATOR, {"regions": [R1]}),
         "far-coordinator": (Role.COORDINATOR, {"regions": [R2]})}
INSIDERS = {"owner", "coordinator", "admin"}
OUTSIDERS = {"neighbour", "partner", "far-coordinator"}


def prepare(db) -> None:
    match_at_outcome(db, "demo-n-005", "partner", "demo-o-001")


pages_db, app, module_client, client, engine = page_fixtures(USERS, prepare)


@pytest.fixture(scope="module")
def match_id(pages_db) -> int:
    store = Store(pages_db)
    try:
        return store.find_match("demo-n-005", "partner", "demo-o-001")["id"]
    finally:
        store.close()


@pytest.fixture(scope="module")
def tokens(pages_db):
    return make_tokens(pages_db, {**USERS, "admin": (Role.ADMIN, {})})


@pytest.fixture(scope="module")
def owner(pages_db):
    store = Store(pages_db)
    try:
        return store.get("associations", OWNER)
    finally:
        store.close()


def write(client, match_id, **extra):
    sign_in(client, "owner")
    response = post(client, f"/matches/{match_id}/lesson",
                    {"text": SECRET, "worked": "yes", "members_trained": "30", **extra},
                    page=f"/matches/{match_id}")
    assert response.status_code == 303, response.text
    assert "done=lesson" in response.headers["location"]
    client.cookies.clear()


def api_lessons(client, tokens, caller) -> list[dict]:
    response = client.get("/api/v1/lessons", headers=tokens[caller])
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if SECRET in item["text"]]


def card_of(html: str) -> str | None:
    """The lesson card of a page that holds the text, if any."""
    for card in re.findall(r'<li class="card[^"]*"[^>]*>.*?</li>\s*(?=<li|</ul>)',
                           html, re.S):
        if SECRET in unescape(card):
            return unescape(card)
    return None


def page_as(client, username: str, path: str) -> str:
    client.cookies.clear()
    sign_in(client, username)
    response = client.get(path)
    assert response.status_code == 200
    return unescape(response.text)


def cli_export(pages_db, fmt: str) -> str:
    result = CliRunner().invoke(cli_app, ["knowledge", "export", "--format", fmt,
                                          "--db", str(pages_db)])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_unpublished_lesson_of_a_confidential_need_stays_with_its_insiders(
        client, pages_db, match_id, tokens, owner):
    write(client, match_id)

    for caller in INSIDERS:
        found = api_lessons(client, tokens, caller)
        assert len(found) == 1, caller
        assert found[0]["association_name"] == owner["name"] and not found[0]["published"]
    for caller in OUTSIDERS:
        assert api_lessons(client, tokens, caller) == [], caller
    for username in OUTSIDERS:
        assert SECRET not in page_as(client, username, "/library"), username
        assert SECRET not in page_as(client, username, "/library/digest"), username
    assert SECRET in page_as(client, "coordinator", "/library")
    assert SECRET in page_as(client, "owner", f"/matches/{match_id}")
    assert SECRET not in page_as(client, "partner", f"/partner/matches/{match_id}")
    for fmt in ("html", "md", "csv"):
        assert SECRET not in cli_export(pages_db, fmt)
    export = client.get("/api/v1/partners/demo-p-01/data", headers=tokens["partner"]).json()
    assert SECRET not in str(export["lessons"])  # the partner's data: not its lesson
    own = client.get(f"/api/v1/associations/{OWNER}/data", headers=tokens["owner"]).json()
    assert [item["text"] for item in own["lessons"]] == [SECRET]


def test_a_published_lesson_of_a_confidential_need_never_names_its_association(
        client, pages_db, match_id, tokens, owner):
    write(client, match_id, publish="on", publish_asked="1")
    named = [owner["name"], owner["id"], "Tanzania"]

    for caller in OUTSIDERS:
        found = api_lessons(client, tokens, caller)
        assert len(found) == 1, caller
        shown = found[0]
        assert shown["published"] and shown["region"] == R1
        assert shown["association_id"] is None and shown["association_name"] is None
        assert shown["country"] is None and shown["match_id"] is None
        assert not any(word in str(shown) for word in named), caller
    for username in OUTSIDERS:
        for path in ("/library", "/library/digest"):
            card = card_of(page_as(client, username, path))
            assert card is not None, (username, path)
            assert not any(word in card for word in named), (username, path, card)
            assert "Africa" in card  # the network, nothing finer
    partner_page = page_as(client, "partner", f"/partner/matches/{match_id}")
    assert SECRET in partner_page
    for fmt in ("html", "md", "csv"):
        text = cli_export(pages_db, fmt)
        line = next(line for line in text.splitlines() if "Qzx" in line)
        following = text.split("Qzx", 1)[1][:400]
        assert not any(word in line + following.split("\n- ")[0] for word in named), fmt
    insider = api_lessons(client, tokens, "coordinator")[0]
    assert insider["association_name"] == owner["name"]  # the coordinators still know


def test_only_the_association_publishes_from_its_page(client, match_id):
    sign_in(client, "coordinator")
    page = client.get(f"/review/{match_id}").text
    assert 'name="publish"' not in page
    response = post(client, f"/matches/{match_id}/lesson",
                    {"text": "Coordinator's view.", "worked": "yes", "publish": "on",
                     "publish_asked": "1"}, page=f"/review/{match_id}")
    assert "problem=lesson" in response.headers["location"]
