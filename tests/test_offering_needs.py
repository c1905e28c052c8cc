"""Partners find the needs their offerings fit: only admissible pairs, sensitive needs as
their neutral summary with no association, and "offer help" as a proposed match that the
coordinators review."""

from __future__ import annotations

import pytest
from support import api_client, copy_database, make_tokens

from matcher.principals import Role
from matcher.ranking import filters

R1 = "africa_anglophone"
OFFERING, PARTNER = "demo-o-003", "demo-p-01"  # open to the two African networks


@pytest.fixture(scope="module")
def world(demo_db, tmp_path_factory):
    db = copy_database(demo_db, tmp_path_factory.mktemp("offering-needs"))
    headers = make_tokens(db, {
        "partner": (Role.PARTNER, {"partner_id": PARTNER}),
        "other_partner": (Role.PARTNER, {"partner_id": "demo-p-07"}),
        "coord_r1": (Role.COORDINATOR, {"regions": [R1]}),
        "admin": (Role.ADMIN, {}),
        "association": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    })
    with api_client(db) as client:
        yield client, headers


def _needs(client, headers, offering=OFFERING, **params):
    response = client.get(f"/api/v1/offerings/{offering}/needs", headers=headers,
                          params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["needs"]


def test_only_needs_the_offering_passes_every_hard_rule_for_are_listed(world):
    client, headers = world
    engine = client.app.state.engines.get()
    corpus = engine.corpus()
    position = corpus.offerings.position[OFFERING]
    listed = _needs(client, headers["partner"])

    assert listed
    for entry in listed:
        association = corpus.associations[corpus.needs[entry["need_id"]]["association_id"]]
        rules = filters.rules_for(corpus, "partner", association, engine.store.capacity_used())
        assert all(mask[position] for mask in rules.values()), entry["need_id"]
    strengths = [e["strength"] for e in listed]
    assert strengths == sorted(strengths, reverse=True)
    refused = [nid for nid, need in corpus.needs.items() if not all(
        mask[position] for mask in filters.rules_for(
            corpus, "partner", corpus.associations[need["association_id"]]).values())]
    assert refused and not {e["need_id"] for e in listed} & set(refused)


def test_a_sensitive_need_shows_only_its_summary_and_no_association(world):
    client, headers = world
    engine = client.app.state.engines.get()
    listed = _needs(client, headers["partner"])
    hidden = [e for e in listed if engine.is_sensitive(e["need_id"])]
    assert hidden  # demo-n-005 (sgbv, in R1) fits the offering
    for entry in hidden:
        need = engine.store.get("needs", entry["need_id"])
        assert entry["text_hidden"] and entry["text"] != need["text"]
        assert entry["association_id"] is None and entry["association_name"] is None
        assert entry["country"] is None and entry["reasons"] == []
    texts = {n["text"] for n in engine.store.needs() if engine.is_sensitive(n["id"])}
    body = client.get(f"/api/v1/offerings/{OFFERING}/needs", headers=headers["partner"],
                      params={"limit": 100}).text
    assert not any(text[:40] in body for text in texts)


def test_who_may_look_coordinators_in_their_regions(world):
    client, headers = world
    engine = client.app.state.engines.get()
    corpus = engine.corpus()
    seen = _needs(client, headers["coord_r1"])
    assert {corpus.associations[corpus.needs[e["need_id"]]["association_id"]]["region"]
            for e in seen} <= {R1}
    for role, code in (("other_partner", 404), ("association", 403)):
        assert client.get(f"/api/v1/offerings/{OFFERING}/needs",
                          headers=headers[role]).status_code == code


def test_offering_help_makes_a_proposed_match_the_coordinator_reviews(world):
    client, headers = world
    entry = next(e for e in _needs(client, headers["partner"]) if not e["text_hidden"])
    url = f"/api/v1/offerings/{OFFERING}/needs/{entry['need_id']}/offer"

    assert client.post(url, headers=headers["other_partner"]).status_code == 403
    offered = client.post(url, headers=headers["partner"])
    assert offered.status_code == 201, offered.text
    match = offered.json()
    assert match["status"] == "proposed" and match["offered_by"] == "partner"
    assert client.post(url, headers=headers["partner"]).status_code == 409
    assert entry["need_id"] not in {e["need_id"] for e in _needs(client, headers["partner"])}

    approved = client.post(f"/api/v1/matches/{match['id']}/approve",
                           headers=headers["admin"], json={"version": match["version"]})
    assert approved.status_code == 200, approved.text
    assert approved.json()["offered_by"] == "partner"


# ---------------------------------------------------------------------- mutual exchanges
def test_mutual_exchanges_help_both_ways_and_hide_sensitive_needs(world):
    client, headers = world
    engine = client.app.state.engines.get()
    corpus = engine.corpus()
    response = client.get("/api/v1/associations/demo-a-01/exchanges",
                          headers=headers["association"], params={"limit": 5})
    assert response.status_code == 200, response.text
    exchanges = response.json()["exchanges"]

    assert exchanges and len(exchanges) <= 5
    assert [e["score"] for e in exchanges] == sorted((e["score"] for e in exchanges),
                                                     reverse=True)
    for e in exchanges:
        assert e["association_id"] != "demo-a-01"
        assert e["they_help_you"] and e["you_help_them"]
        for pair in e["they_help_you"]:
            assert corpus.needs[pair["need_id"]]["association_id"] == "demo-a-01"
            assert corpus.practices.records[corpus.practices.position[pair["practice_id"]]][
                "association_id"] == e["association_id"]
        for pair in e["you_help_them"]:
            assert corpus.needs[pair["need_id"]]["association_id"] == e["association_id"]
            assert not engine.is_sensitive(pair["need_id"])
    assert client.get("/api/v1/associations/demo-a-12/exchanges",
                      headers=headers["association"]).status_code == 404
    assert client.get("/api/v1/associations/demo-a-01/exchanges",
                      headers=headers["partner"]).status_code == 403


def test_offering_help_again_under_the_same_idempotency_key_returns_the_first_match(world):
    client, headers = world
    entries = [e for e in _needs(client, headers["partner"]) if not e["text_hidden"]][:2]
    key = {**headers["partner"], "Idempotency-Key": "offer-help-once"}
    url = f"/api/v1/offerings/{OFFERING}/needs/{{}}/offer"

    first = client.post(url.format(entries[0]["need_id"]), headers=key)
    again = client.post(url.format(entries[0]["need_id"]), headers=key)
    other = client.post(url.format(entries[1]["need_id"]), headers=key)

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409  # the key was used for another request
