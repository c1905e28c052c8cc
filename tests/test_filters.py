"""Hard constraints: no suggestion ever breaks a FORMAT.md rule, whatever the weights.

The rules are computed here, independently, from the raw demo JSON (never through
``matcher.ranking.filters``), and checked against what the engine suggests for every demo need.
"""

from __future__ import annotations

import json

import pytest

from matcher.exchange import parse_document
from matcher.ranking.engine import Engine
from matcher.reference import default_data_dir
from matcher.settings import load_settings

DATA = default_data_dir()
RAW = json.loads((DATA / "demo.json").read_bytes())
COUNTRY_REGION = json.loads((DATA / "countries.json").read_bytes())

OFFERINGS = {o["id"]: o for p in RAW["partners"] for o in p["offerings"]}
NEED_OWNER = {n["id"]: a for a in RAW["associations"] for n in a["needs"]}
PRACTICE_OWNER = {pr["id"]: a["id"] for a in RAW["associations"] for pr in a["practices"]}
NEED_IDS = list(NEED_OWNER)
EVERYTHING = len(OFFERINGS) + len(PRACTICE_OWNER) + 10

WEIGHTS = {
    "defaults": None,
    "semantic negative, lexical huge": {"semantic": -5.0, "lexical": 10.0},
    "everything inverted": {"semantic": -10.0, "lexical": -10.0, "category": -10.0,
                            "language": -10.0, "commodity": -10.0, "geography": -10.0},
    "commodity only": {"semantic": 0.0, "lexical": 0.0, "category": 0.0, "language": 0.0,
                       "commodity": 50.0, "geography": 0.0},
}


def region_of(assoc: dict) -> str:
    return assoc.get("region") or COUNTRY_REGION[assoc["country"]]


def broken_rules(offering: dict, assoc: dict) -> list[str]:
    """FORMAT.md rules 1-6, by number, that ``offering`` breaks for ``assoc``."""
    elig = {"women_led_only": False, "min_members": 0, "requires_formal_license": False,
            **offering.get("eligibility", {})}
    broken = []
    if offering.get("regions") and region_of(assoc) not in offering["regions"]:
        broken.append("1 region")
    if offering.get("countries") and assoc["country"] not in offering["countries"]:
        broken.append("2 country")
    if offering.get("commodities") and not set(offering["commodities"]) & set(
            assoc.get("commodities", [])):
        broken.append("3 commodity")
    if elig["women_led_only"] and not assoc.get("women_led", False):
        broken.append("4 women-led only")
    if elig["min_members"] > assoc.get("members", 0):
        broken.append("5 min members")
    if elig["requires_formal_license"] and not assoc.get("formal_license", False):
        broken.append("6 formal licence")
    return broken


def allowed_offerings(need_id: str) -> set[str]:
    assoc = NEED_OWNER[need_id]
    return {oid for oid, o in OFFERINGS.items()
            if not broken_rules(o, assoc) and o.get("active", True)
            and (o.get("capacity") is None or o["capacity"] > 0)}


def test_the_demo_exercises_every_rule():
    """Guard: the checks below mean something only if the demo data trips every rule."""
    tripped = {rule for need_id in NEED_IDS for o in OFFERINGS.values()
               for rule in broken_rules(o, NEED_OWNER[need_id])}
    assert tripped == {"1 region", "2 country", "3 commodity", "4 women-led only",
                       "5 min members", "6 formal licence"}


@pytest.mark.parametrize("weights", list(WEIGHTS.values()), ids=list(WEIGHTS))
def test_forbidden_offering_never_suggested(engine, weights):
    for need_id in NEED_IDS:
        result = engine.suggest(need_id, "partner", limit=EVERYTHING, weights=weights)
        assoc = NEED_OWNER[need_id]
        for s in result.suggestions:
            assert not broken_rules(OFFERINGS[s.item_id], assoc), (need_id, s.item_id)


def test_every_allowed_offering_stays_a_candidate(engine):
    """The filter removes what breaks a rule and nothing else."""
    for need_id in NEED_IDS:
        result = engine.suggest(need_id, "partner", limit=EVERYTHING)
        assert {s.item_id for s in result.suggestions} == allowed_offerings(need_id), need_id


@pytest.mark.parametrize("weights", list(WEIGHTS.values()), ids=list(WEIGHTS))
def test_own_practices_never_suggested_as_peers(engine, weights):
    for need_id in NEED_IDS:
        own = NEED_OWNER[need_id]["id"]
        result = engine.suggest(need_id, "peer", limit=EVERYTHING, weights=weights)
        assert result.suggestions, need_id
        for s in result.suggestions:
            assert PRACTICE_OWNER[s.item_id] != own, (need_id, s.item_id)
            assert s.owner_id != own


def test_every_practice_of_other_associations_stays_a_peer_candidate(engine):
    for need_id in NEED_IDS[:10]:
        own = NEED_OWNER[need_id]["id"]
        result = engine.suggest(need_id, "peer", limit=EVERYTHING)
        assert {s.item_id for s in result.suggestions} == {
            pid for pid, owner in PRACTICE_OWNER.items() if owner != own}


def test_association_level_suggestions_obey_the_rules(engine):
    for assoc in RAW["associations"]:
        partner = engine.suggest_for_association(assoc["id"], "partner", limit=EVERYTHING)
        for s in partner.suggestions:
            assert not broken_rules(OFFERINGS[s.item_id], assoc), (assoc["id"], s.item_id)
        peer = engine.suggest_for_association(assoc["id"], "peer", limit=EVERYTHING)
        assert all(PRACTICE_OWNER[s.item_id] != assoc["id"] for s in peer.suggestions)


def test_rules_passed_lists_every_rule_for_a_suggested_offering(engine):
    result = engine.suggest(NEED_IDS[0], "partner")
    for s in result.suggestions:
        assert {"region", "country", "commodity", "women_led_only", "min_members",
                "formal_license", "active", "capacity"} <= set(s.rules_passed)


# ---------------------------------------------------------------------------- active, capacity
def _top_unrestricted_offering(engine, need_id: str) -> str:
    """The best offering for ``need_id``, as the engine ranks it today."""
    return engine.suggest(need_id, "partner").suggestions[0].item_id


def test_inactive_offering_is_never_suggested(demo_copy, engine):
    need_id = "demo-n-001"
    target = _top_unrestricted_offering(engine, need_id)
    fresh = Engine(load_settings(db=demo_copy))
    assert target in {s.item_id for s in fresh.suggest(need_id, limit=EVERYTHING).suggestions}

    doc = json.loads(json.dumps(RAW))
    next(o for p in doc["partners"] for o in p["offerings"] if o["id"] == target)["active"] = False
    fresh.store.import_exchange(parse_document(json.dumps(doc), fresh.ref))

    for need in NEED_IDS:
        for weights in WEIGHTS.values():
            ids = {s.item_id for s in fresh.suggest(need, limit=EVERYTHING,
                                                    weights=weights).suggestions}
            assert target not in ids, need
    ranked = fresh.suggest(need_id, limit=EVERYTHING).suggestions
    assert {s.item_id for s in ranked} == allowed_offerings(need_id) - {target}


def test_offering_with_zero_capacity_is_never_suggested(demo_copy):
    target = "demo-o-001"  # open to every region, commodity and association
    fresh = Engine(load_settings(db=demo_copy))
    doc = json.loads(json.dumps(RAW))
    offering = next(o for p in doc["partners"] for o in p["offerings"] if o["id"] == target)
    assert not offering.get("regions") and not offering.get("countries")
    offering["capacity"] = 0
    fresh.store.import_exchange(parse_document(json.dumps(doc), fresh.ref))
    for need in NEED_IDS:
        ids = {s.item_id for s in fresh.suggest(need, limit=EVERYTHING).suggestions}
        assert target not in ids, need


def hold_slots(store, offering_id: str, count: int, status: str = "approved",
               skip: str = "demo-n-001") -> None:
    """Record ``count`` matches of ``offering_id`` in ``status``, one per need other than
    ``skip`` (a need holds an item once). Test setup: straight rows in the matches table."""
    needs = [n for n in NEED_IDS if n != skip and not store.db.value(
        "select count(*) from matches where need_id = :n and item_id = :o",
        {"n": n, "o": offering_id})][:count]
    assert len(needs) == count
    store.db.upsert_all("matches", [
        {"kind": "partner", "need_id": need, "association_id": NEED_OWNER[need]["id"],
         "item_id": offering_id, "owner_id": PARTNER_OF[offering_id], "status": status,
         "score": 1.0, "created_at": "2026-01-01T00:00:00+00:00",
         "updated_at": "2026-01-01T00:00:00+00:00"}
        for need in needs], ("need_id", "kind", "item_id"), replace=False)


PARTNER_OF = {o["id"]: p["id"] for p in RAW["partners"] for o in p["offerings"]}


def test_offering_at_capacity_is_never_suggested_and_one_below_is(demo_copy, engine):
    need_id = "demo-n-001"
    target = _top_unrestricted_offering(engine, need_id)
    capacity = OFFERINGS[target]["capacity"]
    assert capacity is not None and capacity > 0
    fresh = Engine(load_settings(db=demo_copy))

    hold_slots(fresh.store, target, capacity - 1)
    assert fresh.suggest(need_id).suggestions[0].item_id == target

    hold_slots(fresh.store, target, 1, status="introduced")
    for need in NEED_IDS:
        for weights in WEIGHTS.values():
            ids = {s.item_id for s in fresh.suggest(need, limit=EVERYTHING,
                                                    weights=weights).suggestions}
            assert target not in ids, need
            assert ids == allowed_offerings(need) - {target}


def test_matches_that_hold_no_slot_do_not_fill_an_offering(demo_copy, engine):
    need_id = "demo-n-001"
    target = _top_unrestricted_offering(engine, need_id)
    fresh = Engine(load_settings(db=demo_copy))
    hold_slots(fresh.store, target, OFFERINGS[target]["capacity"] + 5, status="proposed")
    assert target in {s.item_id for s in fresh.suggest(need_id, limit=EVERYTHING).suggestions}


def test_unlimited_capacity_offering_is_never_full(demo_copy):
    unlimited = [oid for oid, o in OFFERINGS.items() if o.get("capacity") is None
                 and not broken_rules(o, NEED_OWNER["demo-n-001"])]
    assert unlimited
    fresh = Engine(load_settings(db=demo_copy))
    for oid in unlimited:
        hold_slots(fresh.store, oid, 50)
    ids = {s.item_id for s in fresh.suggest("demo-n-001", limit=EVERYTHING).suggestions}
    assert set(unlimited) <= ids


def test_an_offering_past_its_validity_is_never_suggested(demo_copy):
    target = "demo-o-001"  # open to every region, commodity and association
    fresh = Engine(load_settings(db=demo_copy))
    doc = json.loads(json.dumps(RAW))
    next(o for p in doc["partners"] for o in p["offerings"]
         if o["id"] == target)["valid_until"] = "2000-01-01"
    fresh.store.import_exchange(parse_document(json.dumps(doc), fresh.ref))
    for need in NEED_IDS:
        assert target not in {s.item_id for s in fresh.suggest(need, limit=EVERYTHING).suggestions}


def test_an_offering_rejected_for_a_need_is_not_suggested_for_it_again(demo_copy, engine):
    need_id = "demo-n-001"
    target = _top_unrestricted_offering(engine, need_id)
    fresh = Engine(load_settings(db=demo_copy))
    fresh.store.db.insert("matches", {
        "kind": "partner", "need_id": need_id, "association_id": NEED_OWNER[need_id]["id"],
        "item_id": target, "owner_id": PARTNER_OF[target], "status": "rejected", "score": 1.0,
        "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00"})
    assert target not in {s.item_id for s in fresh.suggest(need_id, limit=EVERYTHING).suggestions}
    other = next(n for n in NEED_IDS if NEED_OWNER[n]["id"] != NEED_OWNER[need_id]["id"]
                 and target in allowed_offerings(n))
    assert target in {s.item_id for s in fresh.suggest(other, limit=EVERYTHING).suggestions}
