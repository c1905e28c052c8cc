"""Lessons through the API: who writes which side of a match's lesson and when, their
figures, language, search and filters, their audit, the promotion of a lesson into a
practice, and the organisation's data export and erasure. A module copy of the demo database,
the real model and TestClient."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from lesson_support import match_at_outcome
from support import api_client, copy_database, make_tokens

from matcher.principals import Role

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
