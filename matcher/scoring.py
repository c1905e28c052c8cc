"""The scorer interface, the per-request context, and isolated scorer execution."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np
import pluggy

from matcher.corpus import Block, Corpus
from matcher.errors import MatcherError

log = logging.getLogger(__name__)


@dataclass
class Query:
    """The need being matched, with what the scorers read about it."""

    need: dict
    association: dict
    language: str
    category_probs: np.ndarray  # probability per category (sums to 1)
    category_given: bool
    vectors: dict[str, np.ndarray]  # embedder name -> unit vector

    @property
    def category(self) -> int:
        return int(np.argmax(self.category_probs))

    @property
    def category_confidence(self) -> float:
        return float(np.max(self.category_probs))


@dataclass
class ScoringContext:
    """What one scorer call sees: the query and a block of candidates (indices into ``block``)."""

    corpus: Corpus
    kind: str
    query: Query
    candidates: np.ndarray
    ui_language: str = "en"

    @property
    def block(self) -> Block:
        return self.corpus.block(self.kind)


class Scorer:
    """A named, vectorised scoring signal. Subclass and implement :meth:`score`.

    ``score`` returns one finite float per candidate, higher is better, on any scale:
    fusion normalises. ``reasons`` returns short human-readable reasons for a few candidates.
    ``prepare`` builds per-corpus state once (stored in ``block.state[self.name]``).
    """

    name: str = ""
    description: str = ""
    kinds: frozenset[str] = frozenset({"partner", "peer"})
    normalise: str = "zscore"  # "zscore", "minmax" or "none" (already in [0, 1])

    def prepare(self, corpus: Corpus, block: Block) -> object | None:
        return None

    def score(self, ctx: ScoringContext) -> np.ndarray:
        raise NotImplementedError

    def reasons(self, ctx: ScoringContext, positions: Sequence[int],
                scores: np.ndarray) -> list[list[str]]:
        """Reasons for ``ctx.candidates[positions]``; ``scores`` are this scorer's raw scores."""
        return [[] for _ in positions]


@dataclass
class RegisteredScorer:
    scorer: Scorer
    source: str


def collect_scorers(pm: pluggy.PluginManager) -> dict[str, RegisteredScorer]:
    """Every scorer the plugins register, by name, with the plugin that registered it."""
    from matcher.plugins import plugin_source

    found: dict[str, RegisteredScorer] = {}
    for impl in pm.hook.register_scorers.get_hookimpls():
        source = plugin_source(pm, impl.plugin)

        def register(scorer: Scorer, _source: str = source) -> None:
            if not scorer.name:
                raise MatcherError(f"a scorer from {_source} has no name")
            if scorer.name in found:
                raise MatcherError(f"two scorers named {scorer.name!r}")
            found[scorer.name] = RegisteredScorer(scorer, _source)

        try:
            impl.function(register=register)
        except MatcherError:
            raise
        except Exception:  # a broken plugin must not take the engine down
            log.exception("plugin %s failed to register its scorers", source)
    return found


@dataclass
class ScorerRun:
    """Raw scores per scorer for one request, and the scorers that failed (name -> why)."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="scorer")
_overrunning: dict[str, Future] = {}  # scorer name -> its call that overran, until it ends


def _timed(scorer: Scorer, ctx: ScoringContext) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = scorer.score(ctx)
    return out, (time.perf_counter() - start) * 1000


def run_scorers(scorers: dict[str, Scorer], ctx: ScoringContext, budget_ms: float) -> ScorerRun:
    """Call each scorer on the block; isolate errors, overruns, NaN and wrong shapes."""
    run = ScorerRun()
    n = len(ctx.candidates)
    futures = {}
    for name, scorer in scorers.items():
        stuck = _overrunning.get(name)
        if stuck is not None and not stuck.done():
            # Still running from an earlier request: don't pile more threads on it.
            run.failed[name] = "still busy with an earlier request that overran its budget"
            continue
        futures[name] = _pool.submit(_timed, scorer, ctx)
    deadline = time.perf_counter() + budget_ms / 1000
    for name, future in futures.items():
        try:
            raw, elapsed = future.result(timeout=max(deadline - time.perf_counter(), 0.0))
            values = np.asarray(raw, dtype=np.float64)
            if values.shape != (n,):
                raise ValueError(f"returned shape {values.shape}, expected ({n},)")
            if not np.all(np.isfinite(values)):
                raise ValueError("returned NaN or infinite scores")
            run.scores[name] = values
            run.timings_ms[name] = elapsed
        except FutureTimeout:
            if not future.cancel():
                _overrunning[name] = future
            run.failed[name] = f"exceeded the {budget_ms:.0f} ms budget"
            log.error("scorer %s exceeded its %.0f ms budget; left out", name, budget_ms)
        except Exception as exc:  # isolate: log, name, drop, keep serving
            run.failed[name] = f"{type(exc).__name__}: {exc}"
            log.error("scorer %s failed and was left out: %s", name, run.failed[name])
    return run
