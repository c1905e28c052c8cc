"""The match lifecycle over HTTP: proposals, every transition, the audit trail, who sees what,
the coordinator queue, bulk review, capacity accounting and rejected-pair suppression.

Each test gets its own copy of the demo database (real model vectors, real SQLite file).
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from support import make_token, make_tokens

from api.security import POLICY
from matcher.errors import Conflict
from matcher.principals import Role
from matcher.store import Store
from matcher.workflow import lifecycle

R1, R2 = "africa_anglophone", "africa_francophone"
NEED = "demo-n-001"  # posted by demo-a-01 (Ghana, R1), category ohs
ASSOCIATION = "demo-a-01"
OTHER_ASSOCIATION = "demo-a-03"  # also in R1
FRANCOPHONE_NEED = "demo-n-017"  # demo-a-07 (R2)
LATAM_NEED = "demo-n-028"  # demo-a-11 (latin_america_caribbean), market_access
URL = "/api/v1/matches"


@pytest.fixture
def tokens(db) -> dict[str, dict[str, str]]:
    return make_tokens(db, {
        "admin": (Role.ADMIN, {}),
        "coord": (Role.COORDINATOR, {"regions": [R1]}),
        "coord_r2": (Role.COORDINATOR, {"regions": [R2]}),
        "assoc": (Role.ASSOCIATION, {"association_id": ASSOCIATION}),
        "assoc_b": (Role.ASSOCIATION, {"association_id": OTHER_ASSOCIATION}),
    })


def engine_of(client):
    return client.app.state.engines.get()


def suggested(client, headers, need_id: str, kind: str = "partner") -> list[dict]:
    response = client.get(f"/api/v1/needs/{need_id}/suggestions",
                          params={"kind": kind, "limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["suggestions"]


def item_key(kind: str) -> str:
    return "offering_id" if kind == "partner" else "practice_id"


def propose(client, headers, need_id: str, item_id: str, kind: str = "partner"):
    return client.post(URL, json={"need_id": need_id, "kind": kind, "item_id": item_id},
                       headers=headers)


def proposed(client, headers, need_id: str = NEED, kind: str = "partner", rank: int = 0) -> dict:
    """A fresh proposed match of the need's ``rank``-th suggestion."""
    item = suggested(client, headers, need_id, kind)[rank][item_key(kind)]
    response = propose(client, headers, need_id, item, kind)
    assert response.status_code == 201, response.text
    return response.json()


def act(client, headers, match_id: int, action: str, **body):
    path = {"record_outcome": "outcome"}.get(action, action)
    return client.post(f"{URL}/{match_id}/{path}", json=body or None, headers=headers)


def trail(client, headers, match_id: int) -> dict:
    response = client.get(f"{URL}/{match_id}/audit", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_trail_matches(client, headers, match: dict, steps: list[tuple[str | None, str]]):
    """The audit trail is exactly ``steps`` (from, to), chained, ending in the match's state."""
    body = trail(client, headers, match["id"])
    current = client.get(f"{URL}/{match['id']}", headers=headers).json()
    entries = body["entries"]
    assert [(e["from_status"], e["to_status"]) for e in entries] == steps
    assert all(a["to_status"] == b["from_status"] for a, b in pairwise(entries))
    assert body["status"] == current["status"] == entries[-1]["to_status"]
    assert current["version"] == len(entries)
    return entries


# ---------------------------------------------------------------------- proposals
def test_proposal_saves_the_engines_current_suggestion_and_audits_it(client, tokens):
    top = suggested(client, tokens["assoc"], NEED)[0]
    response = propose(client, tokens["assoc"], NEED, top["offering_id"])

    assert response.status_code == 201, response.text
    match = response.json()
    assert match["status"] == "proposed" and match["version"] == 1
    assert match["score"] == pytest.approx(top["score"], abs=1e-3)
    assert (match["need_id"], match["item_id"], match["owner_id"]) == \
        (NEED, top["offering_id"], top["partner_id"])
    assert match["association_id"] == ASSOCIATION and match["region"] == R1
    assert match["category"] == "ohs" and match["reasons"]
    assert match["item_title"] == top["title"] and match["owner_name"] == top["partner_name"]
    assert match["actions"] == []  # the association waits for its coordinator
    entries = assert_trail_matches(client, tokens["admin"], match, [(None, "proposed")])
    assert entries[0]["role"] == "association" and ASSOCIATION in entries[0]["actor"]
    assert entries[0]["action"] == "propose"


def test_coordinator_of_the_region_and_admin_may_propose(client, tokens):
    assert proposed(client, tokens["coord"], rank=0)["status"] == "proposed"
    assert proposed(client, tokens["admin"], rank=1)["status"] == "proposed"


def test_peer_practice_can_be_proposed(client, tokens):
    match = proposed(client, tokens["assoc"], kind="peer")
    assert match["kind"] == "peer" and match["owner_id"] != ASSOCIATION


def test_partner_may_not_propose(client, db, tokens):
    top = suggested(client, tokens["admin"], NEED)[0]
    partner = make_token(db, Role.PARTNER, partner_id=top["partner_id"])
    assert propose(client, partner, NEED, top["offering_id"]).status_code == 403


def test_others_cannot_propose_for_a_need_they_cannot_see(client, tokens):
    item = suggested(client, tokens["admin"], NEED)[0]["offering_id"]
    assert propose(client, tokens["assoc_b"], NEED, item).status_code == 404
    assert propose(client, tokens["coord_r2"], NEED, item).status_code == 404


def test_an_item_that_fails_a_hard_rule_cannot_be_proposed(client, tokens):
    offered = {s["offering_id"] for s in suggested(client, tokens["admin"], NEED)}
    outside = next(o["id"] for o in engine_of(client).store.offerings() if o["id"] not in offered)
    response = propose(client, tokens["admin"], NEED, outside)

    assert response.status_code == 409
    assert "not a suggestion" in response.json()["detail"]


def test_own_practice_is_never_a_peer_proposal(client, tokens):
    own = next(p["id"] for p in engine_of(client).store.practices()
               if p["association_id"] == ASSOCIATION)
    assert propose(client, tokens["admin"], NEED, own, "peer").status_code == 409


@pytest.mark.parametrize("body, status", [
    ({"need_id": "demo-n-999", "kind": "partner", "item_id": "demo-o-001"}, 404),
    ({"need_id": NEED, "kind": "partner", "item_id": "demo-o-999"}, 404),
    ({"need_id": NEED, "kind": "peer", "item_id": "demo-o-001"}, 404),
    ({"need_id": NEED, "kind": "investor", "item_id": "demo-o-001"}, 422),
    ({"need_id": NEED, "kind": "partner"}, 422),
    ({"need_id": NEED, "kind": "partner", "item_id": "demo-o-001", "status": "approved"}, 422),
    ({"need_id": NEED, "kind": "partner", "item_id": "demo-o-001", "owner_id": "x"}, 422),
])
def test_bad_proposals_are_refused(client, tokens, body, status):
    response = client.post(URL, json=body, headers=tokens["admin"])
    assert response.status_code == status, response.text
    assert engine_of(client).store.list_matches(lifecycle.MatchQuery())[1] == 0


def test_the_same_pair_cannot_be_proposed_twice(client, tokens):
    match = proposed(client, tokens["assoc"])
    again = propose(client, tokens["coord"], NEED, match["item_id"])

    assert again.status_code == 409
    assert f"already match {match['id']}" in again.json()["detail"]


# ---------------------------------------------------------------------- the lifecycle
def test_every_valid_transition_in_order_with_its_audit_row(client, db, tokens):
    match = proposed(client, tokens["assoc"])
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    store = engine_of(client).store
    steps = [(None, "proposed")]
    plan = [
        ("coord", "approve", {"note": "fits the plan"}, "approved", 1, ["accept", "decline"]),
        ("assoc", "accept", {}, "introduced", 1, []),
        ("coord", "activate", {}, "active", 1, []),
        ("coord", "record_outcome", {"outcome": "training", "note": "12 trained"},
         "outcome_recorded", 0, []),
        ("coord", "close", {"note": "done"}, "closed", 0, []),  # a close always has a note
    ]
    for who, action, body, target, holds, association_actions in plan:
        before = client.get(f"{URL}/{match['id']}", headers=tokens[who]).json()
        assert action in before["actions"]
        response = act(client, tokens[who], match["id"], action, **body)
        assert response.status_code == 200, (action, response.text)
        after = response.json()
        assert after["status"] == target and after["version"] == before["version"] + 1
        steps.append((before["status"], target))
        entries = assert_trail_matches(client, tokens["admin"], match, steps)
        assert entries[-1]["action"] == action and entries[-1]["note"] == body.get("note")
        assert entries[-1]["role"] == ("association" if who == "assoc" else "coordinator")
        assert store.capacity_used().get(match["item_id"], 0) == holds
        seen = client.get(f"{URL}/{match['id']}", headers=tokens["assoc"]).json()
        assert seen["actions"] == association_actions
        assert client.get(f"{URL}/{match['id']}", headers=partner).json()["status"] == target
    final = client.get(f"{URL}/{match['id']}", headers=tokens["admin"]).json()
    assert final["outcome"] == "training" and final["introduced_at"] is not None
    assert trail(client, tokens["admin"], match["id"])["entries"][4]["outcome"] == "training"


def test_reject_needs_a_reason_from_the_list_and_keeps_it(client, tokens):
    match = proposed(client, tokens["assoc"])
    assert act(client, tokens["coord"], match["id"], "reject").status_code == 422
    assert act(client, tokens["coord"], match["id"], "reject",
               reason="bored").status_code == 422
    response = act(client, tokens["coord"], match["id"], "reject", reason="not_eligible",
                   note="needs a licence")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == "not_eligible"
    entries = assert_trail_matches(client, tokens["coord"], match,
                                   [(None, "proposed"), ("proposed", "rejected")])
    assert entries[-1]["reason"] == "not_eligible" and entries[-1]["note"] == "needs a licence"


def test_association_declines_an_approved_match_which_closes_it_with_the_note(client, tokens):
    match = proposed(client, tokens["assoc"])
    act(client, tokens["coord"], match["id"], "approve")
    response = act(client, tokens["assoc"], match["id"], "decline", note="not now")

    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["note"] == "not now"
    assert response.json()["introduced_at"] is None
    assert_trail_matches(client, tokens["assoc"], match, [
        (None, "proposed"), ("proposed", "approved"), ("approved", "closed")])


@pytest.mark.parametrize("path, action, body", [
    (["approve"], "approve", {}),  # twice
    (["approve"], "reject", {"reason": "other"}),
    ([], "accept", {}),
    ([], "decline", {}),
    ([], "activate", {}),
    ([], "close", {"note": "x"}),
    (["approve"], "activate", {}),
    (["approve"], "record_outcome", {"outcome": "loan"}),
    (["reject"], "approve", {}),
    (["reject"], "close", {"note": "x"}),
    (["approve", "accept"], "accept", {}),
    (["approve", "accept", "activate"], "activate", {}),
    (["approve", "decline"], "accept", {}),
    (["approve", "accept", "activate", "record_outcome", "close"], "activate", {}),
])
def test_invalid_transitions_are_409_and_change_nothing(client, tokens, path, action, body):
    match = proposed(client, tokens["assoc"])
    bodies = {"reject": {"reason": "other"}, "record_outcome": {"outcome": "visit"},
              "close": {"note": "done"}}
    for step in path:
        who = "assoc" if step in ("accept", "decline") else "admin"
        response = act(client, tokens[who], match["id"], step, **bodies.get(step, {}))
        assert response.status_code == 200, (step, response.text)
    before = client.get(f"{URL}/{match['id']}", headers=tokens["admin"]).json()
    response = act(client, tokens["admin"], match["id"], action, **body)

    assert response.status_code == 409, response.text
    assert f"cannot {action}" in response.json()["detail"]
    after = client.get(f"{URL}/{match['id']}", headers=tokens["admin"]).json()
    assert after == before
    assert len(trail(client, tokens["admin"], match["id"])["entries"]) == len(path) + 1


def test_a_stale_version_is_409(client, tokens):
    match = proposed(client, tokens["assoc"])
    act(client, tokens["coord"], match["id"], "approve", version=1)
    response = act(client, tokens["assoc"], match["id"], "accept", version=1)

    assert response.status_code == 409 and "version" in response.json()["detail"]
    assert act(client, tokens["assoc"], match["id"], "accept", version=2).status_code == 200


def test_closing_before_an_outcome_needs_a_note(client, tokens):
    match = proposed(client, tokens["assoc"])
    act(client, tokens["coord"], match["id"], "approve")
    assert act(client, tokens["coord"], match["id"], "close").status_code == 422
    response = act(client, tokens["coord"], match["id"], "close", note="partner withdrew")
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_outcome_must_come_from_the_list(client, tokens):
    match = proposed(client, tokens["assoc"])
    act(client, tokens["admin"], match["id"], "approve")
    act(client, tokens["assoc"], match["id"], "accept")
    act(client, tokens["admin"], match["id"], "activate")
    assert act(client, tokens["admin"], match["id"], "record_outcome").status_code == 422
    assert act(client, tokens["admin"], match["id"], "record_outcome",
               outcome="party").status_code == 422
    assert act(client, tokens["admin"], match["id"], "record_outcome",
               outcome="no_outcome").json()["outcome"] == "no_outcome"


def test_transition_bodies_are_closed(client, tokens):
    match = proposed(client, tokens["assoc"])
    response = act(client, tokens["coord"], match["id"], "approve", status="active")
    assert response.status_code == 422
    response = act(client, tokens["coord"], match["id"], "reject", reason="other",
                   actor="someone else")
    assert response.status_code == 422
    assert act(client, tokens["coord"], match["id"], "approve",
               note="x" * (lifecycle.MAX_NOTE + 1)).status_code == 422
    assert len(trail(client, tokens["admin"], match["id"])["entries"]) == 1


# ---------------------------------------------------------------------- who may do what
def test_only_the_right_side_may_act(client, db, tokens):
    match = proposed(client, tokens["assoc"])
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    mid = match["id"]
    assert act(client, tokens["assoc"], mid, "approve").status_code == 403  # not a reviewer
    assert act(client, partner, mid, "approve").status_code == 403
    assert act(client, tokens["coord_r2"], mid, "approve").status_code == 404  # not its region
    assert act(client, tokens["assoc_b"], mid, "reject", reason="other").status_code == 403
    assert act(client, tokens["coord"], mid, "approve").status_code == 200
    assert act(client, tokens["coord"], mid, "accept").status_code == 403  # not the association
    assert act(client, partner, mid, "accept").status_code == 403
    assert act(client, tokens["assoc_b"], mid, "accept").status_code == 404  # not its match
    assert act(client, tokens["assoc"], mid, "accept").status_code == 200
    assert len(trail(client, tokens["admin"], mid)["entries"]) == 3


def test_who_sees_which_match(client, db, tokens):
    mine = proposed(client, tokens["assoc"])
    other = proposed(client, tokens["admin"], need_id=FRANCOPHONE_NEED)
    partner = make_token(db, Role.PARTNER, partner_id=mine["owner_id"])
    stranger = next(p["id"] for p in engine_of(client).store.partners()
                    if p["id"] not in (mine["owner_id"], other["owner_id"]))
    partner_q = make_token(db, Role.PARTNER, partner_id=stranger)

    def ids(headers) -> set[int]:
        response = client.get(URL, headers=headers)
        assert response.status_code == 200
        return {m["id"] for m in response.json()["items"]}

    assert ids(tokens["admin"]) == {mine["id"], other["id"]}
    assert ids(tokens["coord"]) == {mine["id"]}
    assert ids(tokens["coord_r2"]) == {other["id"]}
    assert ids(tokens["assoc"]) == {mine["id"]}
    assert ids(tokens["assoc_b"]) == set()
    same_partner = other["owner_id"] == mine["owner_id"]
    assert ids(partner) == {mine["id"]} | ({other["id"]} if same_partner else set())
    assert ids(partner_q) == set()
    for headers in (tokens["assoc_b"], tokens["coord_r2"], partner_q):
        for suffix in ("", "/audit", "/introduction"):
            response = client.get(f"{URL}/{mine['id']}{suffix}", headers=headers)
            assert response.status_code == 404, (suffix, response.text)
            assert mine["need_id"] not in response.text
    assert client.get(f"{URL}/{mine['id']}", headers=partner).status_code == 200
    assert client.get(f"{URL}/999999", headers=tokens["admin"]).status_code == 404
    assert client.get(URL).status_code == 401


def test_peer_match_is_seen_by_the_practice_owner_only_after_introduction(client, db, tokens):
    match = proposed(client, tokens["assoc"], kind="peer")
    owner = make_token(db, Role.ASSOCIATION, association_id=match["owner_id"])
    url = f"{URL}/{match['id']}"
    assert client.get(url, headers=owner).status_code == 404
    act(client, tokens["coord"], match["id"], "approve")
    assert client.get(url, headers=owner).status_code == 404
    assert client.get(URL, headers=owner).json()["total"] == 0
    act(client, tokens["assoc"], match["id"], "accept")

    seen = client.get(url, headers=owner)
    assert seen.status_code == 200 and seen.json()["status"] == "introduced"
    assert seen.json()["actions"] == []
    assert [m["id"] for m in client.get(URL, headers=owner).json()["items"]] == [match["id"]]
    assert act(client, owner, match["id"], "close", note="x").status_code == 403
    assert client.get(f"{url}/introduction", headers=owner).status_code == 200


# ---------------------------------------------------------------------- rejected pairs
@pytest.mark.parametrize("kind", ["partner", "peer"])
def test_a_rejected_pair_is_never_suggested_nor_proposed_again(client, tokens, kind):
    match = proposed(client, tokens["assoc"], kind=kind)
    item = match["item_id"]
    assert item in {s[item_key(kind)] for s in suggested(client, tokens["assoc"], NEED, kind)}
    act(client, tokens["coord"], match["id"], "reject", reason="not_relevant")

    assert item not in {s[item_key(kind)] for s in suggested(client, tokens["assoc"], NEED, kind)}
    again = propose(client, tokens["admin"], NEED, item, kind)
    assert again.status_code == 409 and "rejected" in again.json()["detail"]
    assert engine_of(client).store.rejected_items(NEED, kind) == {item}
    # the item stays available to other needs
    other_need = "demo-n-002"
    assert item in {s[item_key(kind)] for s in suggested(client, tokens["admin"], other_need,
                                                          kind)}


# ---------------------------------------------------------------------- capacity
def small_offering(engine) -> tuple[str, int, list[str]]:
    """An offering with a small capacity and R1 needs it is suggested for (capacity + 2)."""
    offerings = {o["id"]: o for o in engine.store.offerings()}
    r1 = {a["id"] for a in engine.store.associations() if a["region"] == R1}
    found: dict[str, list[str]] = {}
    for need in engine.store.needs():
        if need["association_id"] not in r1:
            continue
        for s in engine.suggest(need["id"], "partner", limit=100).suggestions:
            found.setdefault(s.item_id, []).append(need["id"])
    candidates = [(offerings[o]["capacity"], o) for o, needs in found.items()
                  if offerings[o]["capacity"] and len(needs) >= offerings[o]["capacity"] + 2]
    capacity, offering = min(candidates)
    return offering, capacity, found[offering][: capacity + 2]


def test_capacity_fills_with_approvals_and_frees_when_a_match_closes(client, tokens):
    engine = engine_of(client)
    offering, capacity, needs = small_offering(engine)
    waiting, latecomer = needs[:-1], needs[-1]
    ids = {}
    for need in waiting:
        response = propose(client, tokens["coord"], need, offering)
        assert response.status_code == 201, response.text
        ids[need] = response.json()["id"]
    for need in waiting[:capacity]:
        assert act(client, tokens["coord"], ids[need], "approve").status_code == 200
    assert engine.store.capacity_used()[offering] == capacity

    # full: gone from new suggestions, the next approval and a new proposal are refused
    assert offering not in {s["offering_id"] for s in suggested(client, tokens["coord"],
                                                                  latecomer)}
    full = act(client, tokens["coord"], ids[waiting[-1]], "approve")
    assert full.status_code == 409 and "full" in full.json()["detail"]
    assert propose(client, tokens["coord"], latecomer, offering).status_code == 409
    assert client.get(f"{URL}/{ids[waiting[-1]]}", headers=tokens["coord"]).json()[
        "status"] == "proposed"

    # a slot frees: the offering comes back, and the waiting match can be approved
    closed = act(client, tokens["coord"], ids[waiting[0]], "close", note="partner withdrew")
    assert closed.status_code == 200
    assert engine.store.capacity_used()[offering] == capacity - 1
    assert offering in {s["offering_id"] for s in suggested(client, tokens["coord"], latecomer)}
    assert act(client, tokens["coord"], ids[waiting[-1]], "approve").status_code == 200
    assert offering not in {s["offering_id"] for s in suggested(client, tokens["coord"],
                                                                  latecomer)}


def test_introduced_and_active_hold_a_slot_outcome_and_decline_free_it(client, tokens):
    engine = engine_of(client)
    first = proposed(client, tokens["assoc"], rank=0)
    second = proposed(client, tokens["assoc"], rank=1)
    used = engine.store.capacity_used

    def slots(match) -> int:
        return used().get(match["item_id"], 0)

    assert slots(first) == 0
    act(client, tokens["coord"], first["id"], "approve")
    act(client, tokens["coord"], second["id"], "approve")
    assert slots(first) == 1 and slots(second) == 1
    act(client, tokens["assoc"], second["id"], "decline")
    assert slots(second) == 0
    act(client, tokens["assoc"], first["id"], "accept")
    assert slots(first) == 1
    act(client, tokens["coord"], first["id"], "activate")
    assert slots(first) == 1
    act(client, tokens["coord"], first["id"], "record_outcome", outcome="agreement_signed")
    assert slots(first) == 0


# ---------------------------------------------------------------------- the queue
@pytest.fixture
def queue(client, db, tokens) -> dict[str, dict]:
    """Matches in three regions, two kinds, one approved, and one proposed long ago."""
    made = {
        "r1_a": proposed(client, tokens["admin"], NEED, rank=0),
        "r1_b": proposed(client, tokens["admin"], NEED, rank=1),
        "r1_peer": proposed(client, tokens["admin"], NEED, kind="peer"),
        "r2": proposed(client, tokens["admin"], FRANCOPHONE_NEED),
        "latam": proposed(client, tokens["admin"], LATAM_NEED),
    }
    made["r1_b"] = act(client, tokens["admin"], made["r1_b"]["id"], "approve").json()
    store = Store(db)
    try:
        item = suggested(client, tokens["admin"], "demo-n-002")[0]
        old = store.create_match(
            {"kind": "partner", "need_id": "demo-n-002", "association_id": ASSOCIATION,
             "item_id": item["offering_id"], "owner_id": item["partner_id"], "score": 0.5,
             "category": "ohs", "reasons": []},
            actor="test", role="admin", at="2020-01-01T00:00:00+00:00")
    finally:
        store.close()
    made["old"] = old
    return made


def listing(client, headers, **params) -> dict:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_queue_filters(client, tokens, queue):
    ids = {name: m["id"] for name, m in queue.items()}
    admin = tokens["admin"]

    def names(**params) -> set[str]:
        got = {m["id"] for m in listing(client, admin, **params)["items"]}
        return {name for name, i in ids.items() if i in got}

    assert names() == set(ids)
    assert names(status="approved") == {"r1_b"}
    assert names(status=["approved", "proposed"]) == set(ids)
    assert names(region=R1) == {"r1_a", "r1_b", "r1_peer", "old"}
    assert names(region=R2) == {"r2"}
    assert names(kind="peer") == {"r1_peer"}
    assert names(category="market_access") == {"latam"}
    assert names(older_than_days=30) == {"old"}
    assert names(older_than_days=0) == set(ids)
    assert names(need_id=FRANCOPHONE_NEED) == {"r2"}
    cutoff = sorted(m["score"] for m in queue.values())[3]
    assert names(min_score=cutoff) == {n for n, m in queue.items() if m["score"] >= cutoff}
    coordinator = {m["id"] for m in listing(client, tokens["coord"], region=R2)["items"]}
    assert coordinator == set()  # a coordinator's scope is never widened by a filter


def test_queue_sorts_and_pages(client, tokens, queue):
    admin = tokens["admin"]
    by_score = listing(client, admin, sort="-score")["items"]
    assert [m["score"] for m in by_score] == sorted((m["score"] for m in by_score), reverse=True)
    oldest = listing(client, admin, sort="created_at")["items"]
    assert oldest[0]["id"] == queue["old"]["id"]
    assert [m["created_at"] for m in oldest] == sorted(m["created_at"] for m in oldest)
    newest = listing(client, admin, sort="-created_at")["items"]
    assert newest[-1]["id"] == queue["old"]["id"]

    first = listing(client, admin, sort="-score", limit=2, offset=0)
    second = listing(client, admin, sort="-score", limit=2, offset=2)
    assert first["total"] == second["total"] == len(queue)
    assert [m["id"] for m in first["items"] + second["items"]] == [m["id"] for m in by_score[:4]]


@pytest.mark.parametrize("params", [{"status": "pending"}, {"sort": "score"}, {"limit": 0},
                                    {"limit": 101}, {"offset": -1}, {"min_score": "nan"},
                                    {"older_than_days": -1}, {"kind": "investor"}])
def test_bad_queue_parameters_are_422(client, tokens, params):
    assert client.get(URL, params=params, headers=tokens["admin"]).status_code == 422


# ---------------------------------------------------------------------- bulk review
def test_bulk_approve_reports_each_id(client, tokens):
    a = proposed(client, tokens["admin"], rank=0)
    b = proposed(client, tokens["admin"], rank=1)
    done = proposed(client, tokens["admin"], rank=2)
    elsewhere = proposed(client, tokens["admin"], FRANCOPHONE_NEED)
    act(client, tokens["admin"], done["id"], "approve")

    response = client.post(f"{URL}/bulk", headers=tokens["coord"], json={
        "action": "approve", "ids": [a["id"], b["id"], done["id"], elsewhere["id"], 999999],
        "note": "batch"})

    assert response.status_code == 200, response.text
    results = {r["id"]: r for r in response.json()["results"]}
    assert [r["id"] for r in response.json()["results"]] == \
        [a["id"], b["id"], done["id"], elsewhere["id"], 999999]
    assert results[a["id"]]["ok"] and results[a["id"]]["match"]["status"] == "approved"
    assert results[b["id"]]["ok"] and results[b["id"]]["status_code"] == 200
    assert results[done["id"]]["status_code"] == 409 and not results[done["id"]]["ok"]
    assert results[elsewhere["id"]]["status_code"] == 404  # not the coordinator's region
    assert results[999999]["status_code"] == 404 and results[999999]["match"] is None
    for match in (a, b):
        entries = assert_trail_matches(client, tokens["admin"], match,
                                       [(None, "proposed"), ("proposed", "approved")])
        assert entries[-1]["note"] == "batch"
    assert client.get(f"{URL}/{elsewhere['id']}", headers=tokens["admin"]).json()[
        "status"] == "proposed"


def test_bulk_reject_needs_a_reason_and_records_it(client, tokens):
    a = proposed(client, tokens["admin"], rank=0)
    b = proposed(client, tokens["admin"], rank=1)
    body = {"action": "reject", "ids": [a["id"], b["id"]]}
    assert client.post(f"{URL}/bulk", headers=tokens["coord"], json=body).status_code == 422
    response = client.post(f"{URL}/bulk", headers=tokens["coord"],
                           json={**body, "reason": "duplicate"})

    assert all(r["ok"] for r in response.json()["results"])
    for match in (a, b):
        entries = assert_trail_matches(client, tokens["coord"], match,
                                       [(None, "proposed"), ("proposed", "rejected")])
        assert entries[-1]["reason"] == "duplicate"
        assert match["item_id"] not in {s["offering_id"] for s in suggested(
            client, tokens["coord"], NEED)}


@pytest.mark.parametrize("body", [
    {"action": "accept", "ids": [1]}, {"action": "approve", "ids": []},
    {"action": "approve", "ids": list(range(1, 102))},
    {"action": "approve", "ids": [1], "reason": "other"},
    {"action": "approve", "ids": [0]}, {"action": "approve", "ids": [1], "status": "x"},
])
def test_bad_bulk_requests_are_422(client, tokens, body):
    assert client.post(f"{URL}/bulk", headers=tokens["admin"], json=body).status_code == 422


def test_bulk_review_is_for_reviewers_only(client, db, tokens):
    match = proposed(client, tokens["assoc"])
    body = {"action": "approve", "ids": [match["id"]]}
    partner = make_token(db, Role.PARTNER, partner_id=match["owner_id"])
    for headers in (tokens["assoc"], partner):
        assert client.post(f"{URL}/bulk", headers=headers, json=body).status_code == 403
    assert client.get(f"{URL}/{match['id']}", headers=tokens["admin"]).json()[
        "status"] == "proposed"


# ---------------------------------------------------------------------- the contract
def test_every_match_operation_is_guarded_as_the_state_machine_says(client):
    spec = client.get("/openapi.json").json()
    operations = {op["operationId"]: (path, method)
                  for path, item in spec["paths"].items() if path.startswith(URL)
                  for method, op in item.items()}
    assert set(operations) == {
        "propose_match", "list_matches", "bulk_review_matches", "get_match", "match_audit",
        "match_introduction", "approve_match", "reject_match", "accept_introduction",
        "decline_introduction", "activate_match", "record_match_outcome", "close_match",
        "answer_match", "list_match_comments", "comment_match", "write_lesson"}
    assert set(operations) <= POLICY.keys()
    by_action = {"approve": "approve_match", "reject": "reject_match",
                 "accept": "accept_introduction", "decline": "decline_introduction",
                 "activate": "activate_match", "record_outcome": "record_match_outcome",
                 "close": "close_match"}
    assert set(by_action) == set(lifecycle.TRANSITIONS)
    for action, operation in by_action.items():
        assert POLICY[operation] == lifecycle.TRANSITIONS[action].roles, action
    assert POLICY["propose_match"] == {Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION}
    assert POLICY["bulk_review_matches"] == {Role.ADMIN, Role.COORDINATOR}
    assert POLICY["answer_match"] == {Role.ADMIN, Role.PARTNER}  # beside the state machine
    assert POLICY["comment_match"] == POLICY["list_match_comments"] == set(Role)
    # past the outcome, beside the state machine: each side of the exchange and its reviewers
    assert POLICY["write_lesson"] == set(Role)
    schemas = spec["components"]["schemas"]
    for name in ("MatchPublic", "MatchPage", "AuditTrail", "Introduction", "IntroducedMatch",
                 "MatchCreate", "RejectRequest", "OutcomeRequest", "CloseRequest",
                 "BulkApprove", "BulkReject",
                 "BulkReviewResponse", "AnswerRequest", "CommentCreate", "Comment"):
        assert schemas[name].get("examples"), name


def test_state_machine_table_is_consistent():
    targets = {t.target for t in lifecycle.TRANSITIONS.values()}
    sources = {s for t in lifecycle.TRANSITIONS.values() for s in t.sources}
    assert targets | sources | {"proposed"} == set(lifecycle.STATES)
    assert lifecycle.allowed_from("rejected") == [] and lifecycle.allowed_from("closed") == []
    assert lifecycle.allowed_from("proposed") == ["approve", "reject"]
    assert lifecycle.allowed_from("approved") == ["accept", "decline", "close"]


# ---------------------------------------------------------------------- the store's guarantees
def test_a_stale_write_changes_nothing_and_writes_no_audit_row(client, tokens, db):
    match = proposed(client, tokens["assoc"])
    store = Store(db)
    try:
        store.transition_match(match["id"], version=1, from_status="proposed",
                               to_status="approved", action="approve", actor="a", role="admin")
        with pytest.raises(Conflict, match="changed meanwhile"):
            store.transition_match(match["id"], version=1, from_status="proposed",
                                   to_status="rejected", action="reject", actor="b",
                                   role="admin", reason="other")
        assert store.get_match(match["id"])["status"] == "approved"
        assert [e["actor"] for e in store.audit_trail(match["id"])][1:] == ["a"]
    finally:
        store.close()


def test_status_change_and_audit_row_commit_together(client, tokens, db, monkeypatch):
    match = proposed(client, tokens["assoc"])
    store = Store(db)
    try:
        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(store, "_audit", broken)
        with pytest.raises(RuntimeError):
            store.transition_match(match["id"], version=1, from_status="proposed",
                                   to_status="approved", action="approve", actor="a",
                                   role="admin", takes_slot=True)
        monkeypatch.undo()
        assert store.get_match(match["id"])["status"] == "proposed"
        assert store.get_match(match["id"])["version"] == 1
        assert len(store.audit_trail(match["id"])) == 1
    finally:
        store.close()
