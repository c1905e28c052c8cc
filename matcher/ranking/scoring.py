"""The scorer interface, the per-request context, and isolated scorer execution."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from matcher.ranking.corpus import Block, Corpus

log = logging.getLogger(__name__)

DEFAULT_WEIGHT = 1.0  # a scorer that names no weight for a kind it scores takes part with this


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
    threads: int = 1  # how many threads a large pass may use (:func:`split_rows`)

    @property
    def block(self) -> Block:
        return self.corpus.block(self.kind)

    def split_rows(self, n: int, work: Callable[[int, int], None], align: int = 1) -> None:
        """``work(start, stop)`` over the rows ``[0, n)``, in parts run at once when ``n`` is
        large (:func:`split_rows`)."""
        split_rows(n, work, self.threads, align)


class Scorer:
    """A named, vectorised scoring signal. Subclass and implement :meth:`score`.

    ``score`` returns one finite float per candidate, higher is better, on any scale:
    fusion normalises. ``reasons`` returns short human-readable reasons for a few candidates.
    ``prepare`` builds per-corpus state once (stored in ``block.state[self.name]``), and
    ``prepare_again`` after a write, from the state before it.
    What came of each candidate's past exchanges is in ``ctx.block.evidence`` (see
    :data:`matcher.ranking.corpus.EVIDENCE`), fresher than the corpus: read it in ``score``.
    """

    name: str = ""
    description: str = ""
    label: str = ""  # plain words for the pages (marked with matcher.i18n.N_); "" shows the name
    # the words on association and partner pages, which never name an engine ("" = label)
    public_label: str = ""
    kinds: frozenset[str] = frozenset({"partner", "peer"})
    weights: Mapping[str, float] = {}  # default fusion weight per kind; settings override it
    normalise: str = "zscore"  # "zscore", "minmax" or "none" (already in [0, 1])
    # Run in the request's own thread rather than the scorer pool: for the built-in scorers,
    # a few vectorised numpy passes, for which handing work to another thread costs more than
    # the work (under load the threads contend for the GIL). Its time is still measured, and
    # a call over the budget is still left out; only a pooled scorer can be abandoned while
    # it runs, so third-party scorers stay in the pool (the default).
    inline: bool = False

    def default_weight(self, kind: str) -> float:
        """The weight this scorer takes part with for ``kind`` unless settings say otherwise:
        its own ``weights``, else :data:`DEFAULT_WEIGHT` for every kind it scores."""
        if kind not in self.kinds:
            return 0.0
        return float(self.weights.get(kind, DEFAULT_WEIGHT))

    def prepare(self, corpus: Corpus, block: Block) -> object | None:
        return None

    def prepare_again(self, corpus: Corpus, block: Block, previous: Block,
                      state: object | None) -> object | None:
        """The state for ``block`` when the corpus is rebuilt after a write: ``previous`` is
        the same kind of block as it was before (of the corpus this process had, or read
        from its file), and ``state`` what this scorer prepared for it. A scorer whose state
        is costly reuses what still holds (the state of the texts that did not change); the
        result must be what :meth:`prepare` would give. By default, prepared anew."""
        return self.prepare(corpus, block)

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


def default_weights(scorers: Mapping[str, RegisteredScorer], kind: str) -> dict[str, float]:
    """Each scorer's own default weight for ``kind``."""
    return {name: r.scorer.default_weight(kind) for name, r in scorers.items()}


def scorer_labels(scorers: Mapping[str, RegisteredScorer]) -> dict[str, str]:
    """Each scorer's label (plain words, untranslated), for those that give one."""
    return {name: r.scorer.label for name, r in scorers.items() if r.scorer.label}


def public_scorer_labels(scorers: Mapping[str, RegisteredScorer]) -> dict[str, str]:
    """Each scorer's label for association and partner pages (no engine names), for those
    that give one."""
    return {name: r.scorer.public_label or r.scorer.label for name, r in scorers.items()
            if r.scorer.public_label or r.scorer.label}


@dataclass
class ScorerRun:
    """Raw scores per scorer for one request, and the scorers that failed (name -> why)."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="scorer")
_overrunning: dict[str, Future] = {}  # scorer name -> its call that overran, until it ends


class BadScores(ValueError):
    """A scorer returned scores of the wrong shape, or NaN or infinite ones."""


# ---------------------------------------------------------------------- a request's threads
# Below this many rows a pass is quicker in one thread than handed partly to another (the
# hand-over costs about as much as 2,000 rows of a 512-d product); at 100,000 candidates a
# pass over their vectors takes 10 ms or more, and a second core halves it.
SPLIT_MIN = 20_000
_HELPERS = 7
_helpers = ThreadPoolExecutor(max_workers=_HELPERS, thread_name_prefix="split")
_helpers_free = threading.BoundedSemaphore(_HELPERS)


def split_rows(n: int, work: Callable[[int, int], None], threads: int, align: int = 1) -> None:
    """Call ``work(start, stop)`` over the rows ``[0, n)`` in up to ``threads`` parts at once,
    this thread taking the first; every part but the last starts and ends at a multiple of
    ``align``. One part (this thread alone) below :data:`SPLIT_MIN` rows, or when no helper
    thread is free because other requests hold them: a busy server runs each request in its
    own thread, as without this."""
    helpers = 0
    if n >= SPLIT_MIN:
        while helpers < min(threads, _HELPERS + 1) - 1 and _helpers_free.acquire(blocking=False):
            helpers += 1
    if not helpers:
        work(0, n)
        return
    step = -(-n // (helpers + 1))
    step = -(-step // align) * align
    parts = [(start, min(start + step, n)) for start in range(0, n, step)]
    futures = [_helpers.submit(work, start, stop) for start, stop in parts[1:]]
    try:
        work(*parts[0])
    finally:
        wait(futures)
        for _ in range(helpers):
            _helpers_free.release()
    for future in futures:
        future.result()


# ---------------------------------------------------------------------- health
HEALTH_STATES = {
    "idle": "not called since the server started (no request yet, or weight 0)",
    "ok": "its latest call succeeded",
    "failing": "its latest call failed (an error, bad scores, the time budget, or it could "
               "not prepare)",
    "busy": "a call that overran the time budget is still running; it is skipped until then",
}


@dataclass
class ScorerHealth:
    """How a scorer's calls went in this process. ``last_problem`` never carries an error's
    own message (it might quote a need's text): only its type, or the engine's words."""

    status: str  # one of HEALTH_STATES
    calls: int = 0
    failures: int = 0
    last_problem: str | None = None
    last_problem_at: str | None = None


_health: dict[str, ScorerHealth] = {}
_health_lock = threading.Lock()


def record_call(name: str, problem: str | None = None) -> None:
    """Count one call of scorer ``name``: a success, or a failure saying ``problem``."""
    with _health_lock:
        entry = _health.setdefault(name, ScorerHealth("idle"))
        entry.calls += 1
        entry.status = "ok" if problem is None else "failing"
        if problem is not None:
            entry.failures += 1
            entry.last_problem = problem
            entry.last_problem_at = datetime.now(UTC).isoformat(timespec="seconds")


def scorer_health(name: str) -> ScorerHealth:
    """The health of scorer ``name`` in this process (a copy)."""
    with _health_lock:
        entry = _health.get(name, ScorerHealth("idle"))
        copy = ScorerHealth(entry.status, entry.calls, entry.failures, entry.last_problem,
                            entry.last_problem_at)
    stuck = _overrunning.get(name)
    if stuck is not None and not stuck.done():
        copy.status = "busy"
    return copy


# ---------------------------------------------------------------------- running
def _timed(scorer: Scorer, ctx: ScoringContext) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = scorer.score(ctx)
    return out, (time.perf_counter() - start) * 1000


def run_scorers(scorers: dict[str, Scorer], ctx: ScoringContext, budget_ms: float) -> ScorerRun:
    """Call each scorer on the block; isolate errors, overruns, NaN and wrong shapes. Pooled
    scorers run in threads (and may be abandoned at the budget) while the inline ones run
    here."""
    run = ScorerRun()
    n = len(ctx.candidates)
    futures: dict[str, Future] = {}
    for name, scorer in scorers.items():
        if scorer.inline:
            continue
        stuck = _overrunning.get(name)
        if stuck is not None and not stuck.done():
            # Still running from an earlier request: don't pile more threads on it.
            run.failed[name] = "still busy with an earlier request that overran its budget"
            continue
        futures[name] = _pool.submit(_timed, scorer, ctx)
    deadline = time.perf_counter() + budget_ms / 1000
    for name, scorer in scorers.items():
        if name in run.failed:
            continue
        problem = None
        try:
            if scorer.inline:
                raw, elapsed = _timed(scorer, ctx)
                if elapsed > budget_ms:
                    raise FutureTimeout
            else:
                raw, elapsed = futures[name].result(
                    timeout=max(deadline - time.perf_counter(), 0.0))
            values = np.asarray(raw, dtype=np.float64)
            if values.shape != (n,):
                raise BadScores(f"returned shape {values.shape}, expected ({n},)")
            if not np.all(np.isfinite(values)):
                raise BadScores("returned NaN or infinite scores")
            run.scores[name] = values
            run.timings_ms[name] = elapsed
        except FutureTimeout:
            future = futures.get(name)
            if future is not None and not future.cancel():
                _overrunning[name] = future
            run.failed[name] = problem = f"exceeded the {budget_ms:.0f} ms budget"
            log.error("scorer %s exceeded its %.0f ms budget; left out", name, budget_ms)
        except Exception as exc:  # isolate: log, name, drop, keep serving
            run.failed[name] = f"{type(exc).__name__}: {exc}"
            problem = str(exc) if isinstance(exc, BadScores) else f"raised {type(exc).__name__}"
            log.error("scorer %s failed and was left out: %s", name, run.failed[name])
        record_call(name, problem)
    return run
