"""The engine over the demo data with the real embedding model: shape, order, diversity,
categories, errors, and rankings that make sense."""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from matcher.errors import InvalidInput, NotFound
from matcher.exchange import parse_document
from matcher.ranking.embeddings import content_hash
from matcher.ranking.engine import TOP_WINDOW, Engine, _capped_order, _diversify
from matcher.reference import default_data_dir
from matcher.settings import load_settings

DATA = default_data_dir()
RAW = json.loads((DATA / "demo.json").read_bytes())
PARTNER_OF = {o["id"]: p for p in RAW["partners"] for o in p["offerings"]}
OFFERINGS = {o["id"]: o for p in RAW["partners"] for o in p["offerings"]}
ASSOC_OF_PRACTICE = {pr["id"]: a for a in RAW["associations"] for pr in a["practices"]}
NEEDS = {n["id"]: (n, a) for a in RAW["associations"] for n in a["needs"]}
NEED_IDS = list(NEEDS)
KINDS = ("partner", "peer")


def fold(text: str) -> str:
    """Lower case without accents: 'Mercúrio' -> 'mercurio'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def expected_scorers(engine, kind: str, weights=None) -> set[str]:
    table = engine.weights_for(kind, weights)
    return {name for name, r in engine.scorers().items()
            if kind in r.scorer.kinds and table.get(name, 0.0) != 0.0}


# ---------------------------------------------------------------------------- shape
def test_partner_suggestions_come_with_their_partner(engine):
    for need_id in NEED_IDS:
        result = engine.suggest(need_id, "partner")
        assert result.kind == "partner" and result.need_id == need_id
        assert result.association_id == NEEDS[need_id][1]["id"]
        assert result.suggestions
        for s in result.suggestions:
            partner = PARTNER_OF[s.item_id]
            assert (s.kind, s.owner_id, s.owner_name) == ("partner", partner["id"], partner["name"])
            assert s.title == OFFERINGS[s.item_id]["title"]
            assert s.need_id == need_id


def test_peer_suggestions_come_with_their_association(engine):
    for need_id in NEED_IDS:
        result = engine.suggest(need_id, "peer")
        assert result.suggestions
        for s in result.suggestions:
            assoc = ASSOC_OF_PRACTICE[s.item_id]
            assert (s.kind, s.owner_id, s.owner_name) == ("peer", assoc["id"], assoc["name"])
            assert s.title


@pytest.mark.parametrize("kind", KINDS)
def test_every_suggestion_has_score_contributions_rules_and_reasons(engine, kind):
    scorers = expected_scorers(engine, kind)
    assert {"semantic", "category"} <= scorers
    for need_id in NEED_IDS:
        result = engine.suggest(need_id, kind)
        assert result.failed_scorers == {}
        for s in result.suggestions:
            assert isinstance(s.score, float) and math.isfinite(s.score)
            assert set(s.contributions) == scorers, (need_id, s.item_id)
            assert all(math.isfinite(v) for v in s.contributions.values())
            assert s.score == pytest.approx(sum(s.contributions.values()), abs=1e-3)
            assert s.rules_passed
            assert s.reasons and all(isinstance(r, str) and r.strip() for r in s.reasons)


def test_a_zero_weight_removes_a_scorer_from_the_contributions(engine):
    result = engine.suggest("demo-n-001", "partner", weights={"lexical": 0.0})
    assert result.suggestions
    for s in result.suggestions:
        assert "lexical" not in s.contributions
        assert "semantic" in s.contributions


@pytest.mark.parametrize("kind", KINDS)
def test_scores_are_sorted_best_first(engine, kind):
    for need_id in NEED_IDS:
        scores = [s.score for s in engine.suggest(need_id, kind).suggestions]
        assert scores == sorted(scores, reverse=True), need_id


def test_peer_scores_are_sorted_over_the_whole_list(engine):
    for need_id in NEED_IDS[:10]:
        scores = [s.score for s in engine.suggest(need_id, "peer", limit=100).suggestions]
        assert len(scores) > 10
        assert scores == sorted(scores, reverse=True)


def test_limit_is_respected(engine):
    for limit in (1, 3, 10, 25):
        assert len(engine.suggest("demo-n-001", "partner", limit=limit).suggestions) <= limit
        assert len(engine.suggest("demo-n-001", "peer", limit=limit).suggestions) == min(
            limit, sum(1 for a in ASSOC_OF_PRACTICE.values()
                       if a["id"] != NEEDS["demo-n-001"][1]["id"]))


# ---------------------------------------------------------------------------- diversity
def _check_partner_cap(engine, cap: int) -> list[str]:
    broken = []
    for need_id in NEED_IDS:
        top = engine.suggest(need_id, "partner", limit=10).suggestions
        worst = Counter(s.owner_id for s in top).most_common(1)
        if worst and worst[0][1] > cap:
            broken.append(f"{need_id}: {worst[0][0]} x{worst[0][1]}")
    return broken


@pytest.mark.parametrize("partners", [1, 2, 3, 12])
def test_the_capped_order_reads_as_few_owners_as_it_needs_and_is_that_of_the_whole_head(
        partners):
    """_diversify settles the capped order on a prefix of the ranking where it can: its
    first ``limit`` are those of the cap over every owner of the head, whether the cap's
    window fills early or one partner crowds the ranking."""
    rng = np.random.default_rng(partners)
    for trial in range(60):
        n = int(rng.integers(1, 700))
        owner = [f"p{int(rng.integers(partners))}" for _ in range(n)]
        block = SimpleNamespace(records=[{"partner_id": o} for o in owner])
        candidates = rng.permutation(n)
        total = rng.permutation(n).astype(float)  # distinct: one order, whatever the sort
        limit, cap = int(rng.integers(1, 40)), int(rng.integers(1, 4))
        depth = max(limit, TOP_WINDOW) + TOP_WINDOW * 20
        head = np.argsort(-total)[:depth]
        owners = [owner[int(candidates[p])] for p in head]
        expected = [int(head[i]) for i in _capped_order(owners, cap)[:limit]]

        assert _diversify(total, candidates, block, "partner", limit, cap) == expected


def test_at_most_max_per_partner_offerings_of_one_partner_in_the_top_10(engine):
    assert _check_partner_cap(engine, engine.settings.max_per_partner) == []


def test_the_per_partner_cap_follows_the_setting(demo_db):
    """With max_per_partner=1 no partner may have two offerings in a need's top 10."""
    strict = Engine(load_settings(db=demo_db, max_per_partner=1))
    assert strict.settings.max_per_partner == 1
    assert _check_partner_cap(strict, 1) == []


def test_the_cap_only_reorders_it_never_drops_an_allowed_offering(engine):
    for need_id in NEED_IDS[:15]:
        everything = engine.suggest(need_id, "partner", limit=100).suggestions
        top = engine.suggest(need_id, "partner", limit=10).suggestions
        assert [s.item_id for s in everything[:10]] == [s.item_id for s in top]
        assert len({s.item_id for s in everything}) == len(everything)


# ---------------------------------------------------------------------------- associations
@pytest.mark.parametrize("kind", KINDS)
def test_association_level_suggestions_are_deduplicated_and_best_first(engine, kind):
    for assoc in RAW["associations"]:
        result = engine.suggest_for_association(assoc["id"], kind, limit=10)
        ids = [s.item_id for s in result.suggestions]
        assert ids and len(ids) == len(set(ids)), assoc["id"]
        scores = [s.score for s in result.suggestions]
        assert scores == sorted(scores, reverse=True)
        assert result.association_id == assoc["id"] and result.need_id is None
        own_needs = {n["id"] for n in assoc["needs"]}
        assert {s.need_id for s in result.suggestions} <= own_needs


def test_association_level_keeps_each_candidate_with_its_best_need(engine):
    assoc = RAW["associations"][0]
    best: dict[str, float] = {}
    for need in assoc["needs"]:
        for s in engine.suggest(need["id"], "partner", limit=10).suggestions:
            best[s.item_id] = max(best.get(s.item_id, -math.inf), s.score)
    result = engine.suggest_for_association(assoc["id"], "partner", limit=10)
    for s in result.suggestions:
        assert s.score == best[s.item_id]
    scores = [s.score for s in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    # the best candidate overall leads (the per-partner cap can only drop later ones)
    assert scores[0] == max(best.values())


def test_association_level_partner_suggestions_respect_the_per_partner_cap(engine):
    cap = engine.settings.max_per_partner
    broken = {}
    for assoc in RAW["associations"]:
        result = engine.suggest_for_association(assoc["id"], "partner", limit=10)
        owner, count = Counter(s.owner_id for s in result.suggestions).most_common(1)[0]
        if count > cap:
            broken[assoc["id"]] = (owner, count)
    assert broken == {}


# ---------------------------------------------------------------------------- categories
def test_need_without_category_gets_an_inferred_category_with_confidence(engine, ref):
    without = [nid for nid, (n, _) in NEEDS.items() if not n.get("category")]
    assert without
    for need_id in without:
        result = engine.suggest(need_id, "partner", limit=1)
        assert result.category in ref.categories
        assert result.category_inferred is True
        assert 0.0 < result.category_confidence <= 1.0


@pytest.mark.parametrize("classes", [2, 3, 9])
def test_the_category_model_predicts_what_scikit_learn_predicts(classes):
    from sklearn.linear_model import LogisticRegression

    from matcher.ranking import categorize

    rng = np.random.default_rng(classes)
    x, y = rng.normal(size=(300, 16)), rng.integers(0, classes, 300)
    model = categorize.train(x, y, n_categories=10)
    fitted = LogisticRegression(C=16.0, max_iter=2000, class_weight="balanced").fit(x, y)
    queries = rng.normal(size=(40, 16))
    ours = model.predict_proba(queries)
    theirs = fitted.predict_proba(queries)
    np.testing.assert_allclose(ours[:, model.classes], theirs, rtol=0, atol=1e-15)
    assert np.all(np.delete(ours, model.classes, axis=1) == 0.0)
    if classes > 2:  # a softmax with the same operations in the same order: the same bits
        assert np.array_equal(ours[:, model.classes], theirs)


def test_a_given_category_is_kept_with_full_confidence(engine):
    given = [(nid, n["category"]) for nid, (n, _) in NEEDS.items() if n.get("category")]
    assert given
    for need_id, category in given:
        result = engine.suggest(need_id, "peer", limit=1)
        assert (result.category, result.category_inferred) == (category, False)
        assert result.category_confidence == 1.0


@pytest.mark.parametrize("need_id, category", [
    ("demo-n-002", "market_access"),  # buyers with untrusted scales
    ("demo-n-025", "finance"),  # gold money kept under the mattress, thefts
    ("demo-n-040", "finance"),  # banks will not lend for a dredge pump
    ("demo-n-045", "health"),  # miners cough black, dispensary cannot test lungs
])
def test_inferred_categories_make_sense(engine, need_id, category):
    assert not NEEDS[need_id][0].get("category")
    assert engine.suggest(need_id, limit=1).category == category


# ---------------------------------------------------------------------------- errors
def test_unknown_need_is_not_found(engine):
    with pytest.raises(NotFound, match="demo-n-999"):
        engine.suggest("demo-n-999")
    with pytest.raises(NotFound):
        engine.suggest("demo-n-999", "peer")


def test_unknown_association_is_not_found(engine):
    with pytest.raises(NotFound, match="demo-a-99"):
        engine.suggest_for_association("demo-a-99")


def test_a_practice_or_offering_id_is_not_a_need(engine):
    with pytest.raises(NotFound):
        engine.suggest("demo-o-001")
    with pytest.raises(NotFound):
        engine.suggest("demo-pr-001")


@pytest.mark.parametrize("kind, limit", [("partners", 10), ("", 10), ("peer", 0),
                                         ("partner", -1)])
def test_bad_kind_or_limit_is_invalid_input(engine, kind, limit):
    with pytest.raises(InvalidInput):
        engine.suggest("demo-n-001", kind, limit=limit)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_weight_is_invalid_input(engine, value):
    """A NaN weight would make every score NaN (and the JSON answer invalid)."""
    with pytest.raises(InvalidInput) as info:
        engine.suggest("demo-n-001", "partner", weights={"semantic": value})
    assert "weight" in str(info.value)


# ---------------------------------------------------------------------------- sense
MERCURY_OFFERINGS = {oid for oid, o in OFFERINGS.items() if "mercur" in fold(o["title"])}
MERCURY_PRACTICES = {pr["id"] for a in RAW["associations"] for pr in a["practices"]
                     if "mercur" in fold(pr["text"])}


@pytest.mark.parametrize("need_id", [
    "demo-n-021",  # fr: women wash ore with mercury bare-handed, headaches and tremors
    "demo-n-013",  # pt: amalgam burnt in the kitchen, next to the children
    "demo-n-035",  # pt: villagers say the fish is contaminated with mercury
    "demo-n-053",  # id: the tromol still uses mercury, waste flows into rice fields
])
def test_a_need_about_mercury_gets_a_mercury_offering_in_its_top_3(engine, need_id):
    text = fold(NEEDS[need_id][0]["text"])
    assert "mercur" in text or "merkuri" in text
    assert len(MERCURY_OFFERINGS) >= 3
    top3 = [s.item_id for s in engine.suggest(need_id, "partner").suggestions[:3]]
    assert set(top3) & MERCURY_OFFERINGS, top3


@pytest.mark.parametrize("need_id", ["demo-n-021", "demo-n-053"])
def test_a_need_about_mercury_gets_a_peer_that_dropped_mercury_in_its_top_3(engine, need_id):
    assert len(MERCURY_PRACTICES) >= 2
    top3 = [s.item_id for s in engine.suggest(need_id, "peer").suggestions[:3]]
    assert set(top3) & MERCURY_PRACTICES, top3


def test_a_need_about_collapsing_pits_gets_a_safety_offering_first(engine):
    text = NEEDS["demo-n-001"][0]["text"].lower()
    assert "pit" in text and ("cave" in text or "wall" in text)
    first = engine.suggest("demo-n-001", "partner").suggestions[0]
    assert OFFERINGS[first.item_id]["category"] == "ohs"


def test_a_need_about_cheating_gold_buyers_gets_a_market_offering_first(engine):
    first = engine.suggest("demo-n-002", "partner").suggestions[0]
    assert OFFERINGS[first.item_id]["category"] == "market_access"


def test_a_french_need_is_reported_as_french(engine):
    assert engine.suggest("demo-n-017", limit=1).language == "fr"
    assert engine.suggest("demo-n-001", limit=1).language == "en"


def test_the_engine_serves_a_new_store_version_without_a_restart(demo_copy):
    """Data imported after the corpus was built is served on the next request."""
    fresh = Engine(load_settings(db=demo_copy))
    fresh.suggest("demo-n-001")
    doc = json.loads(json.dumps(RAW))
    doc["associations"][0]["needs"].append(
        {"id": "test-n-new", "text": "Nous utilisons du mercure et nous voulons arrêter."})
    fresh.store.import_exchange(parse_document(json.dumps(doc), fresh.ref))
    result = fresh.suggest("test-n-new", "partner")
    assert result.suggestions and result.category_inferred
    assert content_hash(doc["associations"][0]["needs"][-1]["text"]) in \
        fresh.store.known_hashes("use-multilingual")
