"""The ``proven`` scorer: what came of an offering's past exchanges, recorded through the real
lifecycle on a real SQLite copy of the demo set and ranked with the real model, moves it a
little, within bounds; it is a plugin like any other, found through its entry point."""

from __future__ import annotations

import importlib.metadata
import json

import numpy as np
import pytest
from support import api_client, copy_database, make_token

from matcher import PROJECT
from matcher.exchange import Offering
from matcher.plugins import (
    DEFAULT_PLUGINS,
    collect_scorers,
    get_plugin_manager,
    make_plugin_manager,
)
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from matcher.workflow import lifecycle
from plugins.proven import MINUS_SHARE, ProvenScorer, proven_scores

ADMIN = Principal(Role.ADMIN, label="test coordinator")
ORIGINAL = "demo-o-001"  # open to every association: any need may take it
HELPED, LED_NOWHERE = "twin-helped", "twin-nowhere"  # the same offering twice more
HELPED_IN_CONFIDENCE = "twin-confidential"  # and once more: it helped a confidential need
QUERY_NEED = "demo-n-001"  # demo-a-01, Ghana; on pit safety (ohs)
CONFIDENTIAL_NEED = "demo-n-005"  # demo-a-02 (sgbv): its association is never named
CONFIDENTIAL_ASSOCIATION = ("demo-a-02", "Umoja Women Miners Group", "Tanzania", "Tanzanie")
OTHER_SGBV_NEED, OTHER_SGBV_ASSOCIATION = "demo-n-033", "demo-a-12"  # Colombia
WEIGHT = ProvenScorer.weights["partner"]


def record(engine: Engine, need_id: str, item_id: str, outcome: str, kind: str = "partner"):
    """One exchange from proposal to its recorded outcome, through the lifecycle."""
    match = lifecycle.propose(engine, ADMIN, need_id, kind, item_id)
    for action in ("approve", "accept", "activate"):
        match = lifecycle.transition(engine, ADMIN, match["id"], action)
    return lifecycle.transition(engine, ADMIN, match["id"], "record_outcome", outcome=outcome)


def add_twin(engine: Engine, twin_id: str, of: str = ORIGINAL) -> None:
    """An offering of the same partner with exactly the text and rules of ``of``."""
    row = engine.store.get("offerings", of)
    fields = {k: row[k] for k in Offering.model_fields if k in row and k != "id"}
    engine.create_record("offerings", Offering(id=twin_id, **fields), row["partner_id"])


def same_topic(engine: Engine, need_id: str) -> list[str]:
    """The other associations' needs on the topic of ``need_id`` (given or inferred), none
    confidential, one need per association first, then the others."""
    topic = engine.need_category(need_id)[0]
    mine = engine.store.get("needs", need_id)["association_id"]
    needs = [n for n in engine.store.needs() if n["association_id"] != mine
             and not n["confidential"] and engine.need_category(n["id"])[0] == topic]
    seen: set[str] = set()
    first = [n["id"] for n in needs
             if n["association_id"] not in seen and not seen.add(n["association_id"])]
    return first + [n["id"] for n in needs if n["id"] not in first]


@pytest.fixture(scope="module")
def history(demo_db, tmp_path_factory):
    """A copy of the demo set with the same offering four times: one that helped three
    associations on the query need's topic, one that led to nothing there five times, one
    that helped a confidential need only, and the original with no history."""
    db = copy_database(demo_db, tmp_path_factory.mktemp("proven"))
    engine = Engine(load_settings(db=db))
    for twin in (HELPED, LED_NOWHERE, HELPED_IN_CONFIDENCE):
        add_twin(engine, twin)
    needs = same_topic(engine, QUERY_NEED)
    assert len(needs) >= 5
    for need_id in needs[:3]:
        record(engine, need_id, HELPED, "agreement_signed")
    for need_id in needs[:5]:
        record(engine, need_id, LED_NOWHERE, "no_outcome")
    record(engine, CONFIDENTIAL_NEED, HELPED_IN_CONFIDENCE, "training")
    engine.close()
    return db


@pytest.fixture(scope="module")
def ranked(history):
    engine = Engine(load_settings(db=history))
    yield {lang: {s.item_id: s for s in engine.suggest(QUERY_NEED, "partner", limit=200,
                                                      lang=lang).suggestions}
           for lang in ("en", "fr")}
    engine.close()


# ---------------------------------------------------------------------------- the estimate
def test_no_outcome_is_neutral_and_the_scores_stay_within_their_bounds():
    good, bad = np.arange(0, 60), np.arange(60, 0, -1)
    for base in (0.05, 0.3, 0.5, 0.9):
        scores = proven_scores(good, bad, base)
        assert np.all(scores <= 1.0) and np.all(scores >= -MINUS_SHARE)
        assert proven_scores(np.array([0]), np.array([0]), base)[0] == 0.0
        assert np.all(np.diff(proven_scores(np.arange(30), np.zeros(30), base)) > 0)
        falling = proven_scores(np.zeros(30), np.arange(30), base)
        assert np.all(np.diff(falling) <= 0) and falling[1] < 0


def test_one_outcome_moves_an_item_a_fifth_of_the_way_at_most():
    for base in (0.05, 0.3, 0.5, 0.9):
        assert 0 < proven_scores(np.array([1]), np.array([0]), base)[0] <= 0.2 + 1e-9
        assert -0.2 * base - 1e-9 <= proven_scores(np.array([0]), np.array([1]), base)[0] < 0


# ---------------------------------------------------------------------------- ranking
def test_an_offering_that_helped_before_ranks_above_its_equal_without_history(ranked):
    by_id = ranked["en"]
    helped, original = by_id[HELPED], by_id[ORIGINAL]
    assert helped.contributions["proven"] > 0 and original.contributions["proven"] == 0
    assert helped.score > original.score
    order = list(by_id)
    assert order.index(HELPED) < order.index(ORIGINAL)
    # the rest of the score is the original's: only the history differs
    rest = {k: v for k, v in helped.contributions.items() if k != "proven"}
    assert rest == pytest.approx({k: v for k, v in original.contributions.items()
                                  if k != "proven"}, abs=1e-3)


def test_repeated_exchanges_that_led_to_nothing_give_a_mild_bounded_minus(ranked):
    by_id = ranked["en"]
    nowhere = by_id[LED_NOWHERE].contributions["proven"]
    assert -MINUS_SHARE * WEIGHT <= nowhere < 0
    assert by_id[LED_NOWHERE].score < by_id[ORIGINAL].score
    # milder than the plus of an offering that helped fewer times
    assert abs(nowhere) < by_id[HELPED].contributions["proven"]


def test_the_suggestion_says_how_many_associations_it_helped_in_the_pages_language(ranked):
    assert "helped 3 associations with this before" in ranked["en"][HELPED].reasons
    assert "a déjà aidé 3 associations sur ce sujet" in ranked["fr"][HELPED].reasons
    for lang in ("en", "fr"):
        for item in (ORIGINAL, LED_NOWHERE, HELPED_IN_CONFIDENCE):
            assert not any("aid" in r or "helped" in r for r in ranked[lang][item].reasons)


def test_only_the_same_topic_counts(ranked):
    # it helped an sgbv need: nothing for a need on pit safety
    assert ranked["en"][HELPED_IN_CONFIDENCE].contributions["proven"] == 0


def test_a_confidential_need_counts_but_its_association_is_never_named_nor_counted(history):
    engine = Engine(load_settings(db=history))
    for lang in ("en", "fr"):
        shown = engine.suggest(OTHER_SGBV_NEED, "partner", limit=200, lang=lang,
                               only=[HELPED_IN_CONFIDENCE]).suggestions[0]
        assert shown.contributions["proven"] > 0
        words = " ".join(shown.reasons)
        assert "helped" not in words and "aidé" not in words
        assert not any(name in words for name in CONFIDENTIAL_ASSOCIATION)
    engine.close()
    token = make_token(history, Role.ASSOCIATION, association_id=OTHER_SGBV_ASSOCIATION)
    with api_client(history, token) as client:
        response = client.get(f"/api/v1/needs/{OTHER_SGBV_NEED}/suggestions",
                              params={"kind": "partner", "limit": 100})
    assert response.status_code == 200
    text = json.dumps(response.json())
    assert HELPED_IN_CONFIDENCE in text
    assert not any(name in text for name in CONFIDENTIAL_ASSOCIATION)
    assert "with this before" not in text


# ---------------------------------------------------------------------------- freshness
def test_the_evidence_follows_an_outcome_recorded_meanwhile(demo_copy):
    engine = Engine(load_settings(db=demo_copy))
    add_twin(engine, HELPED)
    before = engine.corpus()
    assert engine.suggest(QUERY_NEED, "partner", limit=200, only=[HELPED]) \
        .suggestions[0].contributions["proven"] == 0
    record(engine, same_topic(engine, QUERY_NEED)[0], HELPED, "loan")
    after = engine.suggest(QUERY_NEED, "partner", limit=200, only=[HELPED]).suggestions[0]
    # one outcome: a plus, near neutral (a fifth of the bound at most)
    assert 0 < after.contributions["proven"] <= 0.2 * WEIGHT + 1e-6
    assert "helped 1 association with this before" in after.reasons
    # the evidence alone was refreshed: the prepared corpus is the same
    assert engine.corpus().offerings.state is before.offerings.state
    engine.close()


# ---------------------------------------------------------------------------- the plugin
def test_proven_is_found_through_its_entry_point_and_listed_as_builtin(client, admin):
    entries = {e.name: e.value for e in importlib.metadata.entry_points(group=PROJECT)}
    assert entries.get("proven") == "plugins.proven"
    assert "plugins.proven" not in DEFAULT_PLUGINS
    pm = get_plugin_manager()
    assert [name for name, plugin in pm.list_name_plugin()
            if getattr(plugin, "__name__", "") == "plugins.proven"] == ["proven"]
    assert collect_scorers(pm)["proven"].source == "builtin"
    listed = client.get("/api/v1/plugins", headers=admin).json()["scorers"]
    proven = next(s for s in listed if s["name"] == "proven")
    assert proven["source"] == "builtin"
    assert proven["weights"] == {"partner": 1.0, "peer": 0.6}


def test_a_builtin_named_in_default_plugins_and_by_entry_point_registers_once(monkeypatch):
    import matcher.plugins as plugins

    monkeypatch.setattr(plugins, "DEFAULT_PLUGINS", (*DEFAULT_PLUGINS, "plugins.proven"))
    pm = make_plugin_manager()
    names = [name for name, plugin in pm.list_name_plugin()
             if getattr(plugin, "__name__", "") == "plugins.proven"]
    assert names == ["plugins.proven"]
    assert collect_scorers(pm)["proven"].source == "builtin"


def test_a_lesson_saying_it_worked_outweighs_an_outcome_that_said_nothing(demo_copy):
    from matcher.services import lessons

    engine = Engine(load_settings(db=demo_copy))
    add_twin(engine, HELPED)
    match = record(engine, same_topic(engine, QUERY_NEED)[0], HELPED, "no_outcome")

    def proven() -> float:
        return engine.suggest(QUERY_NEED, "partner", limit=200, only=[HELPED]) \
            .suggestions[0].contributions["proven"]

    assert proven() < 0  # one exchange that led to nothing
    lessons.write(engine, ADMIN, match["id"], "The training came later and it worked well.",
                  True)
    after = engine.suggest(QUERY_NEED, "partner", limit=200, only=[HELPED]).suggestions[0]
    assert after.contributions["proven"] > 0  # the lesson is the finer word, read at once
    assert "helped 1 association with this before" in after.reasons
    engine.close()
