"""Match rounds: the solver's rules (capacity, fairness, optimality) on small instances checked
by brute force, then whole rounds over the demo data through the service, the API and the CLI:
regions, rejected and open pairs, capacity, dry runs, reviewing a round, redaction."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from collections import Counter

import pytest
from support import copy_database, make_tokens

from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import profiles
from matcher.services import rounds as round_service
from matcher.settings import load_settings
from matcher.workflow import lifecycle
from matcher.workflow.rounds import Candidate, Limits, greedy, solve

R1, R2 = "africa_anglophone", "latin_america_caribbean"
ADMIN = Principal(role=Role.ADMIN, label="user test")
COORDINATOR_R1 = Principal(role=Role.COORDINATOR, regions=frozenset({R1}), token_id=1)


# ---------------------------------------------------------------------- the solver
def _feasible(chosen, limits: Limits) -> bool:
    per_need = Counter(c.need_id for c in chosen)
    per_item = Counter(c.item_id for c in chosen)
    per_owner = Counter(c.owner_id for c in chosen)
    return (all(per_need[n] <= limits.slots.get(n, 0) for n in per_need)
            and all(limits.item_capacity.get(i) is None or per_item[i] <= limits.item_capacity[i]
                    for i in per_item)
            and all(limits.owner_capacity.get(o) is None
                    or per_owner[o] <= limits.owner_capacity[o] for o in per_owner))


def _random_instance(rng: random.Random):
    needs = [f"n{i}" for i in range(rng.randint(2, 4))]
    items = [f"o{i}" for i in range(rng.randint(1, 3))]
    pairs = [(n, i) for n in needs for i in items if rng.random() < 0.6][:9]
    candidates = [Candidate(n, "partner", i, f"p{int(i[1:]) % 2}", round(rng.random(), 3))
                  for n, i in pairs]
    limits = Limits({n: rng.randint(1, 2) for n in needs},
                    {i: rng.choice([0, 1, 1, 2, None]) for i in items},
                    {"p0": rng.choice([1, 2, None]), "p1": None})
    return candidates, limits


def test_a_need_gets_its_first_proposal_before_another_gets_a_second():
    candidates = [Candidate("A", "partner", "o1", "p", 0.9),
                  Candidate("A", "partner", "o2", "p", 0.8),
                  Candidate("B", "partner", "o1", "p", 0.3)]
    limits = Limits({"A": 2, "B": 2}, {"o1": 1, "o2": 1})

    fair, baseline = solve(candidates, limits), greedy(candidates, limits)

    assert fair.served == {"A", "B"}
    assert {(c.need_id, c.item_id) for c in fair.chosen} == {("A", "o2"), ("B", "o1")}
    assert baseline.served == {"A"}  # per-need top-k leaves B with nothing


@pytest.mark.parametrize("seed", range(40))
def test_the_plan_is_feasible_and_lexicographically_best(seed):
    """Against every subset of the candidates: no feasible plan serves more needs, and none
    serving as many has a greater total."""
    candidates, limits = _random_instance(random.Random(seed))
    plan = solve(candidates, limits)
    best = max(((len({c.need_id for c in subset}), round(sum(c.value for c in subset), 3))
                for k in range(len(candidates) + 1)
                for subset in itertools.combinations(candidates, k)
                if _feasible(subset, limits)), default=(0, 0.0))

    assert _feasible(plan.chosen, limits)
    assert (len(plan.served), round(plan.total, 3)) == best
    assert len(plan.served) >= len(greedy(candidates, limits).served)


def test_teaching_associations_take_no_more_than_their_room():
    candidates = [Candidate(f"n{i}", "peer", f"pr{i % 3}", "teacher", 0.5) for i in range(6)]
    plan = solve(candidates, Limits({f"n{i}": 1 for i in range(6)}, {}, {"teacher": 2}))
    assert len(plan.chosen) == 2


# ---------------------------------------------------------------------- rounds over the demo
@pytest.fixture(scope="module")
def round_db(demo_db, tmp_path_factory):
    return copy_database(demo_db, tmp_path_factory.mktemp("rounds"))


@pytest.fixture(scope="module")
def round_engine(round_db):
    engine = Engine(load_settings(db=round_db))
    yield engine
    engine.close()


def _regions_of(engine: Engine, need_ids) -> set[str]:
    corpus = engine.corpus()
    return {corpus.associations[corpus.needs[n]["association_id"]]["region"] for n in need_ids}


def test_a_dry_run_chooses_within_the_coordinators_regions_and_writes_nothing(round_engine):
    open_before = len(round_engine.store.open_matches())

    report = round_service.run(round_engine, COORDINATOR_R1, dry_run=True)

    assert report["dry_run"] and report["round_id"]  # the report is kept, nothing proposed
    assert round_service.match_ids(round_engine, COORDINATOR_R1, report["round_id"]) == []
    assert report["regions"] == [R1]
    assert report["proposals"] and report["needs_served"] >= 1
    assert _regions_of(round_engine, {p["need_id"] for p in report["proposals"]}) == {R1}
    assert {u["need_id"] for u in report["unserved"]} | {p["need_id"]
                                                         for p in report["proposals"]} \
        <= {n for n in round_engine.corpus().needs}
    assert report["needs_served"] >= report["greedy"]["needs_served"]
    assert len(round_engine.store.open_matches()) == open_before


def test_a_coordinator_cannot_run_a_round_in_another_region(round_engine):
    from matcher.errors import Forbidden

    with pytest.raises(Forbidden):
        round_service.run(round_engine, COORDINATOR_R1, regions=[R2], dry_run=True)
    with pytest.raises(Forbidden):
        round_service.run(round_engine, Principal(role=Role.ASSOCIATION,
                                                  association_id="demo-a-01"), dry_run=True)


def test_a_round_never_proposes_a_rejected_or_open_pair_and_respects_capacity(round_engine):
    store = round_engine.store
    first = round_service.run(round_engine, ADMIN, regions=[R1], kinds=("partner",),
                              dry_run=True)
    target = first["proposals"][0]
    rejected = lifecycle.propose(round_engine, ADMIN, target["need_id"], "partner",
                                 target["offering_id"])
    lifecycle.transition(round_engine, ADMIN, rejected["id"], "reject", reason="not_relevant")
    # one offering with room for one more match only
    offering = store.get("offerings", first["proposals"][1]["offering_id"])
    held = sum(1 for m in store.open_matches() if m["item_id"] == offering["id"])
    profiles.change_offering(round_engine, ADMIN, offering["id"], {"capacity": held + 1})
    open_pairs = {(m["need_id"], m["item_id"]) for m in store.open_matches()}

    report = round_service.run(round_engine, ADMIN, regions=[R1], kinds=("partner",))

    proposed = {(p["need_id"], p["offering_id"]) for p in report["proposals"]}
    assert (target["need_id"], target["offering_id"]) not in proposed
    assert not proposed & open_pairs
    assert report["round_id"] is not None
    for item, count in Counter(m["item_id"] for m in store.open_matches()).items():
        capacity = store.get("offerings", item)["capacity"]
        assert capacity is None or count <= capacity, item
    rows = store.db.value("select count(*) from matches where round_id = :round_id",
                          {"round_id": report["round_id"]})
    assert rows == len(report["proposals"])


def test_a_round_proposes_at_most_per_need_and_leaves_a_full_need_alone(round_engine):
    report = round_service.run(round_engine, ADMIN, regions=[R2], per_need=1)
    per_need = Counter(p["need_id"] for p in report["proposals"])
    assert per_need and max(per_need.values()) == 1
    again = round_service.run(round_engine, ADMIN, regions=[R2], per_need=1, dry_run=True)
    assert not {p["need_id"] for p in again["proposals"]} & set(per_need)


# ---------------------------------------------------------------------- the API
@pytest.fixture(scope="module")
def api(round_db):
    from support import api_client

    headers = make_tokens(round_db, {
        "admin": (Role.ADMIN, {}),
        "coord_r1": (Role.COORDINATOR, {"regions": [R1]}),
        "coord_r2": (Role.COORDINATOR, {"regions": [R2]}),
        "association": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
        "partner": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    })
    with api_client(round_db) as client:
        yield client, headers


def test_per_need_written_as_a_whole_float_is_that_number_and_a_fraction_is_422(api):
    client, headers = api
    whole = client.post("/api/v1/rounds", headers=headers["coord_r1"],
                        json={"regions": [R1], "per_need": 11.0, "dry_run": True})
    assert whole.status_code == 200, whole.text
    assert whole.json()["per_need"] == 11
    assert client.post("/api/v1/rounds", headers=headers["coord_r1"],
                       json={"regions": [R1], "per_need": 1.5, "dry_run": True}
                       ).status_code == 422


def test_the_api_runs_reads_and_reviews_a_round_as_one(api):
    client, headers = api
    ran = client.post("/api/v1/rounds", headers=headers["coord_r1"],
                      json={"regions": [R1], "kinds": ["peer"], "per_need": 3})
    assert ran.status_code == 200, ran.text
    report = ran.json()
    assert report["round_id"] and report["proposals"]
    assert all("practice_id" in p and "strength" in p for p in report["proposals"])

    assert client.get(f"/api/v1/rounds/{report['round_id']}",
                      headers=headers["coord_r1"]).json()["needs_served"] \
        == report["needs_served"]
    assert client.get(f"/api/v1/rounds/{report['round_id']}",
                      headers=headers["coord_r2"]).status_code == 404
    for role in ("association", "partner"):
        assert client.post("/api/v1/rounds", headers=headers[role],
                           json={"dry_run": True}).status_code == 403
    assert client.post("/api/v1/rounds", headers=headers["coord_r1"],
                       json={"regions": [R2], "dry_run": True}).status_code == 403

    queue = client.get("/api/v1/matches", headers=headers["coord_r1"],
                       params={"status": "proposed", "limit": 100}).json()["items"]
    assert {p["practice_id"] for p in report["proposals"]} <= {m["item_id"] for m in queue}

    reviewed = client.post(f"/api/v1/rounds/{report['round_id']}/review",
                           headers=headers["coord_r1"], json={"action": "approve"})
    assert reviewed.status_code == 200
    results = reviewed.json()["results"]
    assert len(results) == len(report["proposals"]) and all(r["ok"] for r in results)
    assert {r["match"]["status"] for r in results} == {"approved"}


def test_a_partner_reads_a_rounds_proposal_on_a_sensitive_need_redacted(api):
    client, headers = api
    report = client.post("/api/v1/rounds", headers=headers["admin"],
                         json={"regions": [R1], "kinds": ["partner"], "per_need": 2}).json()
    engine = client.app.state.engines.get()
    sensitive = [p for p in report["proposals"] if engine.is_sensitive(p["need_id"])]
    if not sensitive:  # every sensitive need of R1 may have its room taken already
        rows = engine.store.db.execute(
            "select need_id, redacted from matches where round_id is not null").fetchall()
        sensitive_rows = [r for r in rows if engine.is_sensitive(r[0])]
        assert sensitive_rows and all(r[1] == 1 for r in sensitive_rows)
        return
    row = engine.store.db.execute(
        "select redacted from matches where round_id = :round_id and need_id = :need_id",
        {"round_id": report["round_id"], "need_id": sensitive[0]["need_id"]}).fetchone()
    assert row[0] == 1


# ---------------------------------------------------------------------- the CLI
def test_the_cli_prints_steps_and_one_json_object(round_db):
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "round", "--db", str(round_db), "--region", R2,
         "--dry-run", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"round_id", "needs", "needs_served", "proposals", "unserved", "capacity_used",
            "partner_load_gini", "greedy", "total"} <= set(report)
    assert report["dry_run"] is True
    assert "candidates:" in done.stderr and "solve:" in done.stderr

    refused = subprocess.run(
        [sys.executable, "-m", "matcher", "round", "--db", str(round_db), "--region", "mars",
         "--dry-run"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1].startswith("Error:")


def test_a_round_request_takes_json_booleans_and_numbers_only(api):
    client, headers = api
    for body in ({"dry_run": 0}, {"dry_run": "yes"}, {"per_need": "2", "dry_run": True},
                 {"regions": "africa_anglophone", "dry_run": True}):
        response = client.post("/api/v1/rounds", headers=headers["admin"], json=body)
        assert response.status_code == 422, body
