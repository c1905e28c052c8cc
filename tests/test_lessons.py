"""Lessons through the API: who writes which side of a match's lesson and when, their
figures, language, search and filters, their audit, the promotion of a lesson into a
practice, and the organisation's data export and erasure. A module copy of the demo database,
the real model and TestClient."""

from __future__ import annotations

import csv
import io
import sqlite3
import uuid

import pytest
from lesson_support import match_at_outcome
from support import api_client, copy_database, make_tokens
from typer.testing import CliRunner

from matcher.cli import app as cli_app
from matcher.principals import Role
from matcher.store import Store

V1 = "/api/v1"
R1, R2 = "africa_anglophone", "latin_america_caribbean"
TEXT = ("We trained 24 members in retort use over two weekends; the women's group took the "
        "lead. Next time we would start before the rainy season.")
FRENCH = ("Nous avons formé vingt membres à la cornue pendant deux week-ends ; le groupe des "
          "femmes a pris la tête. La prochaine fois, nous commencerions avant la saison des "
          "pluies.")


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory):
    return copy_database(demo_db, tmp_path_factory.mktemp("lessons"))


@pytest.fixture(scope="module")
def who(db):
    return make_tokens(db, {
        "association": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
        "other_association": (Role.ASSOCIATION, {"association_id": "demo-a-02"}),
        "peer_owner": (Role.ASSOCIATION, {"association_id": "demo-a-07"}),
        "partner": (Role.PARTNER, {"partner_id": "demo-p-01"}),
        "other_partner": (Role.PARTNER, {"partner_id": "demo-p-02"}),
        "coordinator": (Role.COORDINATOR, {"regions": [R1]}),
        "far_coordinator": (Role.COORDINATOR, {"regions": [R2]}),
        "admin": (Role.ADMIN, {}),
    })


@pytest.fixture(scope="module")
def http(db):
    with api_client(db) as client:
        yield client


def rows(db, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def lesson(http, headers, match_id, **body):
    return http.post(f"{V1}/matches/{match_id}/lesson",
                     json={"text": TEXT, "worked": True, **body}, headers=headers)


def test_the_association_writes_its_lesson_and_posting_again_updates_it(http, db, who):
    match_id = match_at_outcome(db, "demo-n-001", "partner", "demo-o-001")

    first = lesson(http, who["association"], match_id,
                   figures={"members_trained": 24, "mercury_saved_kg": 3.5})
    again = lesson(http, who["association"], match_id, worked=False, figures={})

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["side"] == "association" and body["language"] == "en"
    assert body["figures"] == {"members_trained": 24, "mercury_saved_kg": 3.5}
    assert body["association_name"] and body["published"] and not body["sensitive"]
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again.json()["worked"] is False
    audit = rows(db, "select action, role, actor from lesson_audit where lesson_id = ? "
                     "order by id", body["id"])
    assert [(a, r) for a, r, _ in audit] == [("write", "association"),
                                             ("update", "association")]
    assert all("token:" in actor for _, _, actor in audit)
    assert not rows(db, "select 1 from lesson_audit where instr(coalesce(actor, ''), ?) or "
                        "instr(action, ?)", "retort", "retort")


def test_a_lesson_before_the_outcome_is_a_409_that_says_why(http, db, who):
    match_id = match_at_outcome(db, "demo-n-003", "partner", "demo-o-002", until="active")

    response = lesson(http, who["association"], match_id)

    assert response.status_code == 409
    assert "outcome" in response.json()["detail"]
    assert not rows(db, "select 1 from lessons where match_id = ?", match_id)


def test_each_side_writes_its_own_and_the_coordinator_completes_any(http, db, who):
    match_id = match_at_outcome(db, "demo-n-002", "partner", "demo-o-003", outcome="visit")

    partner = lesson(http, who["partner"], match_id, text="The visit showed us their pits.")
    coordinator = lesson(http, who["coordinator"], match_id, text="Both sides met twice.")
    completed = lesson(http, who["coordinator"], match_id, side="association",
                       text="Members learnt to shore the pit walls.")
    by_association = lesson(http, who["association"], match_id, side="counterpart")

    assert (partner.status_code, partner.json()["side"]) == (201, "counterpart")
    assert (coordinator.status_code, coordinator.json()["side"]) == (201, "coordinator")
    assert (completed.status_code, completed.json()["side"]) == (201, "association")
    assert by_association.status_code == 403
    sides = rows(db, "select side, role from lessons where match_id = ? order by id", match_id)
    assert sides == [("counterpart", "partner"), ("coordinator", "coordinator"),
                     ("association", "coordinator")]


@pytest.mark.parametrize("caller", ["other_association", "other_partner", "far_coordinator"])
def test_outsiders_of_the_match_find_no_match_to_write_on(http, db, who, caller):
    match_id = match_at_outcome(db, f"demo-n-00{2 if caller != 'other_partner' else 3}",
                                "partner", f"demo-o-00{4 if caller != 'other_partner' else 1}")

    response = lesson(http, who[caller], match_id)

    assert response.status_code == 404


def test_the_peer_association_writes_the_counterpart_side(http, db, who):
    match_id = match_at_outcome(db, "demo-n-001", "peer", "demo-pr-009")

    response = lesson(http, who["peer_owner"], match_id, text=FRENCH, worked=True)

    assert response.status_code == 201, response.text
    assert response.json()["side"] == "counterpart" and response.json()["language"] == "fr"


@pytest.mark.parametrize("figures,word", [
    ({"members trained": 3}, "name"),
    ({"members_trained": "24"}, "number"),
    ({"members_trained": True}, "number"),
    ({"loan_size": 1e13}, "number"),
    ({f"figure_{i}": i for i in range(13)}, "12"),
    ([1, 2], "dictionary"),
])
def test_figures_are_a_few_named_numbers_or_a_clear_422(http, db, who, figures, word):
    match_id = match_at_outcome(db, "demo-n-003", "partner", "demo-o-003")

    response = lesson(http, who["association"], match_id, figures=figures)

    assert response.status_code == 422
    assert word in response.text
    assert "members trained" not in response.text


@pytest.mark.parametrize("body", [{"worked": 1}, {"text": "   "}, {"language": "xx"},
                                  {"side": "nobody"}, {"surprise": True}])
def test_a_malformed_lesson_is_a_422(http, db, who, body):
    match_id = match_at_outcome(db, "demo-n-002", "peer", "demo-pr-004")

    assert lesson(http, who["association"], match_id, **body).status_code == 422


def test_only_the_association_publishes(http, db, who):
    match_id = match_at_outcome(db, "demo-n-002", "partner", "demo-o-001")

    partner = lesson(http, who["partner"], match_id, published=True)
    coordinator = lesson(http, who["coordinator"], match_id, published=False)

    assert partner.status_code == 403 and coordinator.status_code == 403
    assert "association publishes" in partner.json()["detail"]


def test_lessons_are_searched_and_filtered(http, db, who):
    match_id = match_at_outcome(db, "demo-n-004", "partner", "demo-o-004", outcome="loan")
    lesson(http, who["other_association"], match_id, text=FRENCH, figures={"loan_size": 900})

    def found(**params):
        response = http.get(f"{V1}/lessons", params=params, headers=who["partner"])
        assert response.status_code == 200, response.text
        return [i["match_id"] for i in response.json()["items"]]

    assert match_id in found(q="FORME cornue")  # accents and capitals folded
    assert match_id not in found(q="zzzunknown")
    assert match_id in found(language="fr", region=R1, commodity="gold", category="finance")
    assert match_id not in found(language="en")
    assert match_id not in found(region=R2)
    page = http.get(f"{V1}/lessons", params={"limit": 1}, headers=who["admin"]).json()
    assert len(page["items"]) == 1 and page["total"] >= 2 and page["limit"] == 1
    assert http.get(f"{V1}/lessons", params={"language": "zz"},
                    headers=who["admin"]).status_code == 422


def test_a_lesson_becomes_a_practice_of_the_association_that_learned_it(http, db, who):
    match_id = match_at_outcome(db, "demo-n-003", "peer", "demo-pr-009", outcome="visit")
    written = lesson(http, who["association"], match_id).json()
    key = {"Idempotency-Key": uuid.uuid4().hex}

    promoted = http.post(f"{V1}/lessons/{written['id']}/practice", json={},
                         headers={**who["association"], **key})
    retried = http.post(f"{V1}/lessons/{written['id']}/practice", json={},
                        headers={**who["association"], **key})
    twice = http.post(f"{V1}/lessons/{written['id']}/practice", json={},
                      headers=who["coordinator"])
    by_partner = http.post(f"{V1}/lessons/{written['id']}/practice", json={},
                           headers=who["partner"])

    assert promoted.status_code == 201, promoted.text
    body = promoted.json()
    assert body["practice"]["association_id"] == "demo-a-01"
    assert body["practice"]["text"] == TEXT
    assert body["lesson_id"] == written["id"] and body["source_practice_id"] == "demo-pr-009"
    assert retried.status_code == 201 and retried.json() == body
    assert twice.status_code == 409 and by_partner.status_code == 403
    practice = http.get(f"{V1}/practices/{body['practice']['id']}", headers=who["peer_owner"])
    assert practice.status_code == 200  # a normal practice, readable by peers
    assert rows(db, "select action from lesson_audit where lesson_id = ? order by id",
                written["id"])[-1] == ("promote",)


def test_a_write_retried_with_its_key_is_the_same_lesson(http, db, who):
    match_id = match_at_outcome(db, "demo-n-004", "peer", "demo-pr-001")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"text": TEXT, "worked": True}

    first = http.post(f"{V1}/matches/{match_id}/lesson", json=body,
                      headers={**who["other_association"], **key})
    again = http.post(f"{V1}/matches/{match_id}/lesson", json=body,
                      headers={**who["other_association"], **key})

    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json()
    assert rows(db, "select count(*) from lesson_audit where lesson_id = ?",
                first.json()["id"]) == [(1,)]


def test_lessons_and_their_audit_are_exported_and_erased_with_the_organisation(
        http, db, who):
    match_id = match_at_outcome(db, "demo-n-011", "partner", "demo-o-005", outcome="loan")
    headers = make_tokens(db, {"owner": (Role.ASSOCIATION, {"association_id": "demo-a-04"})})
    written = lesson(http, headers["owner"], match_id, figures={"loan_size": 5000}).json()
    lesson(http, who["coordinator"], match_id, text="The loan came in time.")

    export = http.get(f"{V1}/associations/demo-a-04/data", headers=headers["owner"])
    assert export.status_code == 200, export.text
    data = export.json()
    assert {item["side"] for item in data["lessons"]} == {"association", "coordinator"}
    assert {(a["lesson_id"], a["action"]) for a in data["lesson_audit"]} >= {
        (written["id"], "write")}
    assert all(set(a) == {"id", "lesson_id", "match_id", "action", "actor", "role", "at"}
               for a in data["lesson_audit"])

    erased = http.delete(f"{V1}/associations/demo-a-04", headers=who["admin"])

    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"]["lessons"] == 2
    assert erased.json()["deleted"]["lesson_audit"] == 2
    assert rows(db, "select count(*) from lessons where association_id = 'demo-a-04'") == [(0,)]
    assert rows(db, "select count(*) from lesson_audit where match_id = ?", match_id) == [(0,)]
    assert rows(db, "select count(*) from lessons_fts where lessons_fts match 'loan'") == [(0,)]


def test_a_partners_erasure_takes_the_lessons_of_its_offerings(http, db, who):
    match_id = match_at_outcome(db, "demo-n-006", "partner", "demo-o-008")
    lesson(http, who["other_association"], match_id)

    erased = http.delete(f"{V1}/partners/demo-p-03", headers=who["admin"])

    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"]["lessons"] == 1
    assert rows(db, "select count(*) from lessons where match_id = ?", match_id) == [(0,)]


def test_the_knowledge_export_writes_a_digest_in_each_format_and_language(db, tmp_path):
    match_id = match_at_outcome(db, "demo-n-008", "peer", "demo-pr-026", outcome="training")
    store = Store(db)
    try:
        store.save_lesson(store.get_match(match_id), "association",
                          {"text": FRENCH, "worked": True, "figures": {"members_trained": 20},
                           "language": "fr"}, sensitive=False, region=R1, actor="t",
                          role="association", actor_org="demo-a-03")
    finally:
        store.close()
    runner = CliRunner()

    def export(*args):
        return runner.invoke(cli_app, ["knowledge", "export", "--db", str(db), *args])

    html = export("--format", "html", "--topic", "health", "--lang", "fr")
    markdown = export("--format", "md", "--region", R1, "--lang", "es")
    table = export("--format", "csv", "--topic", "health", "-o", str(tmp_path / "d.csv"))

    assert html.exit_code == 0, html.output
    assert '<html lang="fr">' in html.output and "Pratiques et leçons" in html.output
    assert '<p lang="fr">Nous avons formé' in html.output and "français" in html.output
    assert markdown.exit_code == 0 and markdown.output.startswith("# Prácticas y lecciones")
    assert "Escrito en: francés" in markdown.output
    assert table.exit_code == 0 and table.output == ""
    rows_ = list(csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text("utf-8"))))
    lessons_ = [r for r in rows_ if r["kind"] == "lesson"]
    practices = [r for r in rows_ if r["kind"] == "practice"]
    assert [(r["language"], r["worked"], r["figures"]) for r in lessons_] == [
        ("fr", "yes", "members_trained=20")]
    assert practices and all(r["topic"] == "Health and health care" for r in practices)
    pr = next(r for r in rows_ if r["id"] == "demo-pr-026")
    assert (pr["taught"], pr["reported_worked"]) == ("1", "1")
    # a practice's text stays in its own language, and the digest names it
    assert all(r["language"] and r["language_name"] for r in practices)
    assert markdown.output.count("Escrito en:") > 1


@pytest.mark.parametrize("args,word", [
    (["--format", "pdf"], "--format"),
    (["--format", "md", "--topic", "nope"], "topic"),
    (["--format", "md", "--region", "nowhere"], "network"),
    (["--format", "md", "--lang", "de"], "language"),
])
def test_a_bad_knowledge_export_exits_with_one_line(db, args, word):
    result = CliRunner().invoke(cli_app, ["knowledge", "export", "--db", str(db), *args])

    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and word in lines[0]


def test_a_practice_shows_whom_it_was_taught_to_and_what_worked(http, db, who):
    taught = [match_at_outcome(db, need, "peer", "demo-pr-007") for need in
              ("demo-n-001", "demo-n-004", "demo-n-007")]
    match_at_outcome(db, "demo-n-008", "peer", "demo-pr-007", until="active")
    for match_id, headers, worked in zip(taught[:2], ("association", "other_association"),
                                         (True, True)):
        lesson(http, who[headers], match_id, worked=worked)
    lesson(http, who["coordinator"], taught[2], worked=False)
    store = Store(db)
    try:
        counts = store.practice_exchanges(["demo-pr-007"])
    finally:
        store.close()

    assert counts == {"demo-pr-007": {"taught": 3, "worked": 2}}
