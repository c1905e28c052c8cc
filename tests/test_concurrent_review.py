"""Concurrent review on a real server: two coordinators act on the same match at the same
moment; exactly one wins, the other gets 409, and the audit trail matches the final state.
Parallel approvals never fill an offering beyond its capacity.

A real uvicorn server on loopback over one database (a SQLite file, then a PostgreSQL
database), requests from threads released together.
"""

from __future__ import annotations

import json

import httpx
import pytest
from postgres import demo_target
from servers import race, serve
from support import REVIEW_REGION, REVIEWER_SCOPES, REVIEWERS, make_tokens

from matcher.principals import Role
from matcher.reference import default_data_dir

DEMO = json.loads((default_data_dir() / "demo.json").read_text("utf-8"))
REGION = REVIEW_REGION
REGION_NEEDS = [n["id"] for a in DEMO["associations"] if a.get("region") == REGION
                for n in a["needs"]]
CAPACITY = {o["id"]: o.get("capacity") for p in DEMO["partners"] for o in p["offerings"]}
URL = "/api/v1/matches"
ROUNDS = 10
# (first coordinator's action, second coordinator's action), cycled over the rounds
PAIRS = [("approve", "reject"), ("approve", "approve"), ("reject", "reject"),
         ("reject", "approve")]
TARGET = {"approve": "approved", "reject": "rejected"}
SCOPES = REVIEWER_SCOPES


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def review_db(request, demo_db, tmp_path_factory) -> str:
    """This module's database with the demo data, on each backend."""
    return demo_target(request, demo_db, tmp_path_factory.mktemp("review"))


@pytest.fixture(scope="module")
def tokens(review_db) -> dict[str, dict[str, str]]:
    return make_tokens(review_db, {
        **REVIEWERS,
        "admin2": (Role.ADMIN, {}),
    })


@pytest.fixture(scope="module")
def server(review_db):
    with serve(review_db) as url:
        yield url


@pytest.fixture(scope="module")
def http(server, tokens):
    with httpx.Client(base_url=server, timeout=60, headers=tokens["admin"]) as client:
        yield client


def fresh_pairs(http, count: int) -> list[tuple[str, str]]:
    """``count`` (need, offering) pairs of the region whose offerings no match uses yet."""
    taken = {m["item_id"] for m in _matches(http)}
    pairs = []
    for need in REGION_NEEDS:
        suggestions = http.get(f"/api/v1/needs/{need}/suggestions",
                               params={"limit": 100}).json()["suggestions"]
        fresh = next((s["offering_id"] for s in suggestions if s["offering_id"] not in taken),
                     None)
        if fresh is not None:
            pairs.append((need, fresh))
            taken.add(fresh)
        if len(pairs) == count:
            return pairs
    raise AssertionError(f"only {len(pairs)} fresh pairs in {REGION}")


def _matches(http) -> list[dict]:
    items, offset = [], 0
    while True:
        page = http.get(URL, params={"limit": 100, "offset": offset}).json()
        items += page["items"]
        offset += 100
        if offset >= page["total"]:
            return items


def body_for(action: str) -> dict:
    return {"reason": "duplicate", "note": "raced"} if action == "reject" else {"note": "raced"}


def test_two_coordinators_reviewing_one_match_at_once_exactly_one_wins(server, http, tokens):
    pairs = fresh_pairs(http, ROUNDS)
    outcomes = []
    for round_, (need, item) in enumerate(pairs):
        created = http.post(URL, json={"need_id": need, "kind": "partner", "item_id": item})
        assert created.status_code == 201, created.text
        match = created.json()
        first, second = PAIRS[round_ % len(PAIRS)]
        responses = race([
            (server, tokens["alice"], f"{URL}/{match['id']}/{first}", body_for(first)),
            (server, tokens["bob"], f"{URL}/{match['id']}/{second}", body_for(second)),
        ])
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.text for r in responses]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        loser = responses[1 - winner]
        won_action = (first, second)[winner]
        assert loser.json()["detail"]  # says why: changed meanwhile, or cannot <action>

        final = http.get(f"{URL}/{match['id']}").json()
        trail = http.get(f"{URL}/{match['id']}/audit").json()
        entries = trail["entries"]
        assert final["status"] == TARGET[won_action] == responses[winner].json()["status"]
        assert [(e["from_status"], e["to_status"]) for e in entries] == \
            [(None, "proposed"), ("proposed", TARGET[won_action])]
        assert trail["status"] == final["status"] and final["version"] == 2
        assert entries[-1]["actor"].endswith(SCOPES[winner])
        assert entries[-1]["note"] == "raced"
        outcomes.append((first, second, winner))
    assert len(outcomes) == ROUNDS


def test_many_reviewers_racing_one_approval_leave_one_audit_row(server, http, tokens):
    (need, item), = fresh_pairs(http, 1)
    match = http.post(URL, json={"need_id": need, "kind": "partner", "item_id": item}).json()
    headers = [tokens["alice"], tokens["bob"], tokens["admin"], tokens["admin2"]] * 2
    responses = race([(server, h, f"{URL}/{match['id']}/approve", {}) for h in headers])

    assert sorted(r.status_code for r in responses) == [200] + [409] * (len(headers) - 1)
    entries = http.get(f"{URL}/{match['id']}/audit").json()["entries"]
    assert [e["to_status"] for e in entries] == ["proposed", "approved"]


def test_parallel_approvals_never_overfill_an_offering(server, http, tokens):
    taken = {m["item_id"] for m in _matches(http)}
    suggested_for: dict[str, list[str]] = {}
    for need in REGION_NEEDS:
        for s in http.get(f"/api/v1/needs/{need}/suggestions",
                          params={"limit": 100}).json()["suggestions"]:
            suggested_for.setdefault(s["offering_id"], []).append(need)
    capacity, offering = min((CAPACITY[o], o) for o, needs in suggested_for.items()
                             if o not in taken and CAPACITY[o]
                             and len(needs) >= CAPACITY[o] + 2)
    needs = suggested_for[offering][: capacity + 2]
    ids = []
    for need in needs:
        created = http.post(URL, json={"need_id": need, "kind": "partner", "item_id": offering})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    reviewers = [tokens["alice"], tokens["bob"], tokens["admin"], tokens["admin2"]]
    responses = race([(server, reviewers[i % len(reviewers)], f"{URL}/{mid}/approve", {})
                              for i, mid in enumerate(ids)])

    codes = [r.status_code for r in responses]
    assert codes.count(200) == capacity and codes.count(409) == len(ids) - capacity, codes
    assert all("full" in r.json()["detail"] for r in responses if r.status_code == 409)
    statuses = [http.get(f"{URL}/{mid}").json()["status"] for mid in ids]
    assert statuses.count("approved") == capacity
    assert statuses.count("proposed") == len(ids) - capacity
    for mid, status in zip(ids, statuses):
        entries = http.get(f"{URL}/{mid}/audit").json()["entries"]
        assert [e["to_status"] for e in entries] == (
            ["proposed", "approved"] if status == "approved" else ["proposed"])
