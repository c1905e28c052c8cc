"""A partner answers a match on its offering (accepted, or declined with a reason), beside the
match's status, audited and told to the region's coordinators; and every party of a match
comments on it, the association's side naming no one while the match is confidential."""

from __future__ import annotations

import pytest
from support import api_client, copy_database, make_tokens

from matcher.exchange import Need
from matcher.principals import Role

R1 = "africa_anglophone"
PARTNER, OFFERING = "demo-p-01", "demo-o-003"
SENSITIVE_NEED, ITS_ASSOCIATION = "demo-n-005", "demo-a-02"  # sgbv, in R1


@pytest.fixture(scope="module")
def world(demo_db, tmp_path_factory):
    db = copy_database(demo_db, tmp_path_factory.mktemp("partner-answers"))
    headers = make_tokens(db, {
        "partner": (Role.PARTNER, {"partner_id": PARTNER}),
        "other_partner": (Role.PARTNER, {"partner_id": "demo-p-07"}),
        "coordinator": (Role.COORDINATOR, {"regions": [R1]}),
        "association": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
        "sensitive_association": (Role.ASSOCIATION, {"association_id": ITS_ASSOCIATION}),
        "admin": (Role.ADMIN, {}),
    })
    with api_client(db) as client:
        yield client, headers, client.app.state.engines.get().store


_needs = iter(range(1, 1000))


def _match(store, association="demo-a-01", need=None, redacted=False) -> int:
    if need is None:
        need = store.create_record("needs", Need(
            id=f"n-answer-{next(_needs)}", text="We want bookkeeping training.",
            category="training"), association)["id"]
    return store.create_match({"kind": "partner", "need_id": need,
                               "association_id": association, "item_id": OFFERING,
                               "owner_id": PARTNER, "score": 1.0, "redacted": redacted},
                              actor="test", role="admin")["id"]


def _answer(client, headers, match_id, **body):
    return client.post(f"/api/v1/matches/{match_id}/answer", headers=headers, json=body)


def test_the_partner_accepts_beside_the_status_audited_and_told_to_coordinators(world):
    client, headers, store = world
    match_id = _match(store)

    response = _answer(client, headers["partner"], match_id, answer="accepted",
                       note="we can start in March", version=1)

    assert response.status_code == 200, response.text
    match = response.json()
    assert match["status"] == "proposed" and match["partner_answer"] == "accepted"
    assert match["partner_reason"] is None and match["partner_answered_at"]
    assert match["version"] == 2
    trail = client.get(f"/api/v1/matches/{match_id}/audit",
                       headers=headers["coordinator"]).json()["entries"]
    assert trail[-1]["action"] == "partner_accept"
    assert trail[-1]["note"] == "we can start in March"
    assert trail[-1]["from_status"] == trail[-1]["to_status"] == "proposed"
    told, _, _ = store.notifications_for([f"region:{R1}"], "nobody")
    assert any(n["event"] == "partner_answered" and n["match_id"] == match_id for n in told)
    # the lifecycle goes on as before
    approved = client.post(f"/api/v1/matches/{match_id}/approve",
                           headers=headers["coordinator"])
    assert approved.status_code == 200 and approved.json()["partner_answer"] == "accepted"


def test_a_decline_needs_a_reason_and_the_partner_may_change_its_mind(world):
    client, headers, store = world
    match_id = _match(store)

    assert _answer(client, headers["partner"], match_id, answer="declined").status_code == 422
    assert _answer(client, headers["partner"], match_id, answer="accepted",
                   reason="timing").status_code == 422
    declined = _answer(client, headers["partner"], match_id, answer="declined",
                       reason="no_capacity")
    assert declined.status_code == 200, declined.text
    assert declined.json()["partner_answer"] == "declined"
    assert declined.json()["partner_reason"] == "no_capacity"
    again = _answer(client, headers["partner"], match_id, answer="accepted")
    assert again.json()["partner_answer"] == "accepted" and again.json()["partner_reason"] is None
    actions = [e["action"] for e in client.get(f"/api/v1/matches/{match_id}/audit",
                                               headers=headers["admin"]).json()["entries"]]
    assert actions == ["propose", "partner_decline", "partner_accept"]


def test_only_its_partner_or_an_admin_answers_an_open_match(world):
    client, headers, store = world
    match_id = _match(store)

    assert _answer(client, headers["other_partner"], match_id,
                   answer="accepted").status_code == 404
    assert _answer(client, headers["association"], match_id,
                   answer="accepted").status_code == 403
    assert _answer(client, headers["coordinator"], match_id,
                   answer="accepted").status_code == 403
    assert _answer(client, headers["partner"], match_id, answer="accepted",
                   version=7).status_code == 409
    assert _answer(client, headers["admin"], match_id, answer="accepted").status_code == 200
    client.post(f"/api/v1/matches/{match_id}/reject", headers=headers["coordinator"],
                json={"reason": "not_relevant"})
    closed = _answer(client, headers["partner"], match_id, answer="declined", reason="other")
    assert closed.status_code == 409 and "rejected" in closed.json()["detail"]


def _comment(client, headers, match_id, body, **extra):
    return client.post(f"/api/v1/matches/{match_id}/comments", headers=headers,
                       json={"body": body}, **extra)


def test_every_party_reads_and_writes_the_thread_and_outsiders_find_nothing(world):
    client, headers, store = world
    match_id = _match(store)

    first = _comment(client, headers["partner"], match_id, "Would 12 members fit?")
    second = _comment(client, headers["association"], match_id, "Yes, 12 members.")
    third = _comment(client, headers["coordinator"], match_id, "Good, I approve soon.")

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    thread = client.get(f"/api/v1/matches/{match_id}/comments",
                        headers=headers["partner"]).json()["items"]
    assert [c["body"] for c in thread] == ["Would 12 members fit?", "Yes, 12 members.",
                                           "Good, I approve soon."]
    assert [c["mine"] for c in thread] == [True, False, False]
    assert "demo-a-01" in thread[1]["author"]  # not confidential: the author is named
    assert client.get(f"/api/v1/matches/{match_id}/comments",
                      headers=headers["other_partner"]).status_code == 404
    assert _comment(client, headers["other_partner"], match_id, "hello").status_code == 404
    assert _comment(client, headers["partner"], match_id, "   ").status_code == 422
    assert _comment(client, headers["partner"], match_id, "x" * 2001).status_code == 422
    actions = [e["action"] for e in client.get(f"/api/v1/matches/{match_id}/audit",
                                               headers=headers["admin"]).json()["entries"]]
    assert actions.count("comment") == 3


def test_a_retried_comment_is_written_once(world):
    client, headers, store = world
    match_id = _match(store)
    key = {"Idempotency-Key": "comment-once-1"}

    first = client.post(f"/api/v1/matches/{match_id}/comments",
                        headers={**headers["partner"], **key}, json={"body": "Once only."})
    again = client.post(f"/api/v1/matches/{match_id}/comments",
                        headers={**headers["partner"], **key}, json={"body": "Once only."})

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(store.comments(match_id)) == 1


def test_on_a_confidential_match_the_associations_comments_name_no_one(world):
    client, headers, store = world
    match_id = _match(store, ITS_ASSOCIATION, SENSITIVE_NEED, redacted=True)
    association = store.get("associations", ITS_ASSOCIATION)
    need_text = store.get("needs", SENSITIVE_NEED)["text"]

    assert _comment(client, headers["sensitive_association"], match_id,
                    "We can travel to the training.").status_code == 201
    _answer(client, headers["partner"], match_id, answer="accepted", note="fine")
    seen = client.get(f"/api/v1/matches/{match_id}/comments", headers=headers["partner"])
    match = client.get(f"/api/v1/matches/{match_id}", headers=headers["partner"])

    assert seen.status_code == 200
    (entry,) = seen.json()["items"]
    assert entry["author"] == "association" and entry["body"] == "We can travel to the training."
    for response in (seen, match):
        assert ITS_ASSOCIATION not in response.text
        assert association["name"] not in response.text
        assert need_text[:40] not in response.text
    coordinator = client.get(f"/api/v1/matches/{match_id}/comments",
                             headers=headers["coordinator"]).json()["items"]
    assert ITS_ASSOCIATION in coordinator[0]["author"]
