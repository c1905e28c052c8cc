"""The plugin surface: every hook documented and tested; third-party scorers join the ranking,
and a scorer that fails in any way is isolated while suggestions keep being served."""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Sequence

import numpy as np
import pluggy
import pytest

from matcher import PROJECT, hookimpl, hookspecs
from matcher.plugins import (
    DEFAULT_PLUGINS,
    available_embedders,
    get_plugin_manager,
    make_plugin_manager,
)
from matcher.ranking.embeddings import Embedder
from matcher.ranking.engine import Engine
from matcher.ranking.scoring import Scorer
from matcher.settings import load_settings

NEED = "demo-n-001"
BUILTIN_SCORERS = {"semantic", "semantic_minilm", "semantic_e5", "semantic_e5_second",
                   "lexical", "category",
                   "language", "geography", "commodity", "proven"}


def hook_names() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, f"{PROJECT}_spec")]


@pytest.fixture
def plugin():
    """Register test plugins on the process-wide manager; each is unregistered afterwards."""
    pm = get_plugin_manager()
    registered = []

    def register(obj, name: str):
        pm.register(obj, name=name)
        registered.append(obj)
        return obj

    try:
        yield register
    finally:
        for obj in registered:
            pm.unregister(obj)


class ScorerPlugin:
    """A plugin that registers the given scorers."""

    def __init__(self, *scorers: Scorer):
        self.scorers = scorers

    @hookimpl
    def register_scorers(self, register):
        for scorer in self.scorers:
            register(scorer)


class Boost(Scorer):
    name = "test_boost"
    description = "test: favours one offering"
    kinds = frozenset({"partner"})
    normalise = "none"

    def __init__(self, favourite: str):
        self.favourite = favourite

    def score(self, ctx):
        ids = ctx.block.ids
        return np.array([1.0 if ids[i] == self.favourite else 0.0 for i in ctx.candidates])

    def reasons(self, ctx, positions, scores):
        return [["the test's favourite"] if scores[p] == 1.0 else [] for p in positions]


class Raises(Scorer):
    name = "test_raises"
    description = "test: always raises"

    def score(self, ctx):
        raise RuntimeError("scorer exploded")


class ReturnsNaN(Scorer):
    name = "test_nan"
    description = "test: NaN for the first candidate"

    def score(self, ctx):
        out = np.ones(len(ctx.candidates))
        out[0] = np.nan
        return out


class WrongShape(Scorer):
    name = "test_shape"
    description = "test: one score too many"

    def score(self, ctx):
        return np.zeros(len(ctx.candidates) + 1)


class Hangs(Scorer):
    name = "test_hangs"
    description = "test: blocks until released"

    def __init__(self):
        self.release = threading.Event()

    def score(self, ctx):
        self.release.wait(30)
        return np.zeros(len(ctx.candidates))


class FailsToPrepare(Scorer):
    name = "test_prepare"
    description = "test: prepare raises"

    def prepare(self, corpus, block):
        raise RuntimeError("prepare exploded")

    def score(self, ctx):
        return np.zeros(len(ctx.candidates))


# ---------------------------------------------------------------------------- meta
def test_every_hook_has_a_docstring():
    names = hook_names()
    assert set(names) >= {"register_scorers", "register_embedders"}
    for name in names:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, f"hook {name} lacks a docstring"
        assert "return" in doc.lower(), f"hook {name} does not say what it returns"


def test_every_hook_has_a_test():
    missing = [name for name in hook_names() if f"test_hook_{name}" not in globals()]
    assert missing == []


def test_hookimpl_is_exported_from_the_package_root():
    assert isinstance(hookimpl, pluggy.HookimplMarker)
    assert hookimpl.project_name == PROJECT


def test_builtins_load_from_default_plugins_without_entry_points():
    pm = make_plugin_manager(load_entry_points=False)
    assert {pm.get_name(p) for p in pm.get_plugins()} == set(DEFAULT_PLUGINS)


# ---------------------------------------------------------------------------- hooks
def test_hook_register_scorers(engine, plugin):
    plugin(ScorerPlugin(Boost("demo-o-031")), "test-boost-plugin")
    scorers = engine.scorers()
    assert BUILTIN_SCORERS <= set(scorers)
    assert scorers["test_boost"].source == "test-boost-plugin"
    assert scorers["semantic"].source == "builtin"

    left_out = engine.suggest(NEED, "partner", weights={"test_boost": 0.0})
    assert "test_boost" not in left_out.suggestions[0].contributions
    assert left_out.suggestions[0].item_id != "demo-o-031"

    # installed and named nowhere in the settings: it takes part with its default weight
    plain = engine.suggest(NEED, "partner", limit=100)
    assert scorers["test_boost"].scorer.default_weight("partner") == 1.0
    favourite = next(s for s in plain.suggestions if s.item_id == "demo-o-031")
    assert favourite.contributions["test_boost"] == pytest.approx(1.0)

    boosted = engine.suggest(NEED, "partner", weights={"test_boost": 20.0})
    first = boosted.suggestions[0]
    assert first.item_id == "demo-o-031"
    assert first.contributions["test_boost"] == pytest.approx(20.0)
    assert "the test's favourite" in first.reasons
    assert all("test_boost" in s.contributions for s in boosted.suggestions)
    assert boosted.failed_scorers == {}


def test_hook_register_embedders(plugin, empty_db):
    class Tiny(Embedder):
        name = "test_tiny"
        description = "test: 4-d embedder"

        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            return np.array([[len(t), t.count(" ") + 1, 1.0, 2.0] for t in texts],
                            dtype=np.float32)

    class TinyPlugin:
        @hookimpl
        def register_embedders(self, register, settings):
            register(Tiny())

    plugin(TinyPlugin(), "test-tiny-embedder")
    settings = load_settings(db=empty_db, embedders=["test_tiny"])
    found = available_embedders(get_plugin_manager(), settings)
    assert {"use-multilingual", "minilm", "test_tiny"} <= set(found)
    engine = Engine(settings)
    assert engine.sync_embeddings() > 0
    dims = engine.store.db.execute(
        "select distinct embedder, dim from vectors").fetchall()
    assert dims == [("test_tiny", 4)]


def test_a_scorer_for_one_kind_is_not_run_for_the_other(engine, plugin):
    plugin(ScorerPlugin(Boost("demo-o-031")), "test-boost-plugin")
    result = engine.suggest(NEED, "peer", weights={"test_boost": 20.0})
    assert result.suggestions
    assert all("test_boost" not in s.contributions for s in result.suggestions)


def test_a_plugin_whose_registration_raises_does_not_take_the_engine_down(engine, plugin):
    class Broken:
        @hookimpl
        def register_scorers(self, register):
            raise RuntimeError("registration exploded")

    plugin(Broken(), "test-broken-registration")
    assert BUILTIN_SCORERS <= set(engine.scorers())
    assert engine.suggest(NEED).suggestions


# ---------------------------------------------------------------------------- isolation
@pytest.fixture(scope="module")
def tight_engine(demo_db):
    """An engine over the demo data whose scorers get a small time budget."""
    return Engine(load_settings(db=demo_db, scorer_budget_ms=200))


def assert_isolated(result, name: str, engine) -> None:
    assert result.failed_scorers.get(name), f"{name} not named in failed_scorers"
    assert result.suggestions, "suggestions must still be served"
    healthy = {n for n, r in engine.scorers().items()
               if result.kind in r.scorer.kinds
               and engine.weights_for(result.kind).get(n, 0.0) != 0.0
               } - set(result.failed_scorers)
    for s in result.suggestions:
        assert name not in s.contributions
        assert healthy <= set(s.contributions)
        assert np.isfinite(s.score)


@pytest.mark.parametrize("scorer_class", [Raises, ReturnsNaN, WrongShape],
                         ids=["raises", "nan", "wrong shape"])
@pytest.mark.parametrize("kind", ["partner", "peer"])
def test_a_misbehaving_scorer_is_isolated(tight_engine, plugin, scorer_class, kind):
    scorer = scorer_class()
    plugin(ScorerPlugin(scorer), f"test-{scorer.name}")
    baseline = tight_engine.suggest(NEED, kind, weights={scorer.name: 0.0})
    result = tight_engine.suggest(NEED, kind, weights={scorer.name: 1.0})
    assert_isolated(result, scorer.name, tight_engine)
    assert set(result.failed_scorers) == {scorer.name}
    assert [s.item_id for s in result.suggestions] == [s.item_id for s in baseline.suggestions]
    assert [s.score for s in result.suggestions] == [s.score for s in baseline.suggestions]


def test_a_scorer_that_raises_is_named_with_its_error(tight_engine, plugin):
    plugin(ScorerPlugin(Raises()), "test-raises")
    result = tight_engine.suggest(NEED, weights={"test_raises": 1.0})
    assert "scorer exploded" in result.failed_scorers["test_raises"]


def test_a_scorer_that_hangs_past_the_budget_is_isolated(tight_engine, plugin):
    hangs = Hangs()
    plugin(ScorerPlugin(hangs), "test-hangs")
    try:
        start = time.perf_counter()
        result = tight_engine.suggest(NEED, "partner", weights={"test_hangs": 1.0})
        elapsed = time.perf_counter() - start
        assert_isolated(result, "test_hangs", tight_engine)
        assert set(result.failed_scorers) == {"test_hangs"}
        assert "budget" in result.failed_scorers["test_hangs"]
        assert elapsed < 5.0
    finally:
        hangs.release.set()


class SlowInline(Scorer):
    name = "test_slow_inline"
    description = "test: runs in the request's thread, past the budget"
    inline = True

    def score(self, ctx):
        time.sleep(0.3)  # the tight budget is 200 ms
        return np.zeros(len(ctx.candidates))


def test_an_inline_scorer_past_the_budget_is_left_out_like_a_pooled_one(tight_engine, plugin):
    plugin(ScorerPlugin(SlowInline()), "test-slow-inline")
    result = tight_engine.suggest(NEED, "partner", weights={"test_slow_inline": 1.0})

    assert_isolated(result, "test_slow_inline", tight_engine)
    assert set(result.failed_scorers) == {"test_slow_inline"}
    assert "budget" in result.failed_scorers["test_slow_inline"]


def test_the_built_in_scorers_run_inline_and_a_third_party_one_in_the_pool(engine):
    scorers = {name: r.scorer for name, r in engine.scorers().items()}

    assert all(scorers[name].inline for name in BUILTIN_SCORERS)
    assert not Hangs().inline


def test_a_scorer_that_fails_to_prepare_is_isolated(demo_db, plugin):
    plugin(ScorerPlugin(FailsToPrepare()), "test-prepare")
    engine = Engine(load_settings(db=demo_db))  # its corpus is built with the plugin present
    result = engine.suggest(NEED, "partner", weights={"test_prepare": 1.0})
    assert_isolated(result, "test_prepare", engine)


def test_several_failing_scorers_are_all_named(tight_engine, plugin):
    plugin(ScorerPlugin(Raises(), ReturnsNaN(), WrongShape()), "test-three-bad")
    weights = {"test_raises": 1.0, "test_nan": 2.0, "test_shape": 3.0}
    result = tight_engine.suggest(NEED, "partner", weights=weights)
    assert set(result.failed_scorers) == set(weights)
    assert result.suggestions
    assert all(not set(weights) & set(s.contributions) for s in result.suggestions)


def test_when_every_weighted_scorer_fails_the_eligible_candidates_are_still_served(
        tight_engine, plugin):
    plugin(ScorerPlugin(Raises()), "test-raises")
    only_broken = {name: 0.0 for name in BUILTIN_SCORERS} | {"test_raises": 1.0}
    everything = tight_engine.suggest(NEED, "partner", limit=100)
    result = tight_engine.suggest(NEED, "partner", limit=100, weights=only_broken)
    assert set(result.failed_scorers) == {"test_raises"}
    assert {s.item_id for s in result.suggestions} == {s.item_id for s in everything.suggestions}


def test_a_semantic_scorer_without_its_vectors_is_isolated(demo_db):
    """semantic_minilm reads the 'minilm' embedder's vectors; an engine that keeps none has
    it fail on every request, and serves the other scorers' ranking."""
    engine = Engine(load_settings(db=demo_db, embedders=["use-multilingual"]))
    result = engine.suggest(NEED, "partner", weights={"semantic_minilm": 1.0})
    assert_isolated(result, "semantic_minilm", engine)
    assert "minilm" in result.failed_scorers["semantic_minilm"]


def test_a_plugin_whose_embedder_registration_raises_leaves_the_others_registered(
        plugin, empty_db):
    class Broken:
        @hookimpl
        def register_embedders(self, register, settings):
            raise RuntimeError("registration exploded")

    plugin(Broken(), "test-broken-embedders")
    found = available_embedders(get_plugin_manager(), load_settings(db=empty_db))

    assert {"use-multilingual", "minilm", "e5-multilingual"} <= set(found)


def test_the_lexical_scorer_prepares_an_empty_block_without_failing(engine):
    """A store with offerings but no practices yet (or none at all): no index, no error."""
    from plugins.lexical import LexicalScorer

    corpus = engine.corpus()
    empty = type(corpus.practices)(kind="peer", ids=[], records=[], texts=[], languages=[],
                                   category=np.zeros(0, dtype=int))
    assert LexicalScorer().prepare(corpus, empty)["index"] is None


def test_the_lexical_scores_are_those_bm25s_gives(engine):
    import bm25s

    from plugins.lexical import _known_tokens

    corpus = engine.corpus()
    state = corpus.offerings.state["lexical"]
    tokens = _known_tokens(corpus.offerings, state)
    index = bm25s.BM25()
    index.index([tokens[lang, text] for text, lang in zip(corpus.offerings.texts,
                                                          corpus.offerings.languages)],
                show_progress=False)
    indexed = len(index.scores["indptr"]) - 1  # bm25s's vocabulary also holds "", unindexed
    vocabulary = [token for token, i in index.vocab_dict.items() if i < indexed]
    queries = [vocabulary[:3], vocabulary[-5:], vocabulary[::7], [vocabulary[2]] * 2]

    for query in queries:
        ours, theirs = state["index"].scores(query), index.get_scores(query)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert np.any(state["index"].scores(vocabulary[::7]) > 0)
