"""What worked before: offerings and practices whose past exchanges helped get a mild plus,
those that repeatedly led to nothing a mild minus, both bounded and shrunk toward neutral
while there are few outcomes.

Written as any third-party scorer is: this module and an entry point
(``[project.entry-points.delve_matcher]`` in ``pyproject.toml``). It reads the evidence the
engine keeps per item and per category of need (``ctx.block.evidence``: exchanges with a good
outcome, exchanges that led to nothing, associations helped), refreshed whenever an outcome
is recorded.

"With this": what counts for a need is what came of the item's exchanges on needs of the
same topic, weighed by the need's category probabilities (given: that category; inferred:
each in proportion). An offering that helped with mercury says nothing of its worth for a
loan.

The estimate. Each item's rate of exchanges that helped has a Beta prior centred on the
network's own rate for that kind (``base``: every item's outcomes pooled, smoothed) and worth
``PRIOR_STRENGTH`` outcomes; its posterior mean, compared with ``base``, gives the score.
Above it: the share of the way from ``base`` to "always helped" (0 to 1), so that a success
where successes are rare counts. Below it: the drop of the rate itself (0 to -base, and never
below -``MINUS_SHARE``), so that when most exchanges lead nowhere, a run of them that did
costs little, and it costs more where most exchanges help. So an item with no outcome scores
0 (new offerings are not buried), one outcome moves it by a fifth of the way at most, and
the minus is milder than the plus: an exchange that led to nothing says less about the
offering (the association's own means, timing, funding...) than one that helped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.scoring import Scorer, ScoringContext

PRIOR_STRENGTH = 4.0  # the prior is worth this many outcomes
MINUS_SHARE = 0.5  # the lowest score: -MINUS_SHARE (the highest is 1)


def proven_scores(good: np.ndarray, bad: np.ndarray, base: float,
                  strength: float = PRIOR_STRENGTH) -> np.ndarray:
    """The score of items with ``good`` exchanges that helped and ``bad`` that led to nothing,
    against the network's rate ``base`` (0 < base < 1): in [-min(base, MINUS_SHARE), 1], 0
    without outcomes."""
    good, bad = np.asarray(good, dtype=np.float64), np.asarray(bad, dtype=np.float64)
    posterior = (good + strength * base) / (good + bad + strength)
    lift = (posterior - base) / (1.0 - base)
    drop = posterior - base
    return np.clip(np.where(posterior >= base, lift, drop), -MINUS_SHARE, 1.0)


def network_rate(good: np.ndarray, bad: np.ndarray) -> float:
    """The share of exchanges that helped over the whole block, smoothed (a half with no
    outcome at all)."""
    return (float(np.sum(good)) + 1.0) / (float(np.sum(good) + np.sum(bad)) + 2.0)


@dataclass(frozen=True)
class _Summary:
    """What every request reads of one block's evidence, worked out once."""

    counts: np.ndarray  # the evidence's ``good`` array it was made from
    good: np.ndarray  # as floats
    bad: np.ndarray
    with_outcomes: np.ndarray  # per item: whether it has any outcome
    base: float


_SUMMARIES: dict[int, _Summary] = {}  # id of a block's "good" array -> its summary (a few)


def _summary(evidence: dict[str, np.ndarray]) -> _Summary:
    good, bad = evidence["good"], evidence["no_outcome"]
    found = _SUMMARIES.get(id(good))
    if found is None or found.counts is not good:  # evidence is refreshed as new arrays
        found = _Summary(good, good.astype(np.float64), bad.astype(np.float64),
                         (good.any(axis=1) | bad.any(axis=1)), network_rate(good, bad))
        if len(_SUMMARIES) >= 8:
            _SUMMARIES.clear()
        _SUMMARIES[id(good)] = found
    return found


class ProvenScorer(Scorer):
    name = "proven"
    label = N_("Helped others before")
    # At most half the usual spread (standard deviation) of the fused score over a block (demo
    # set: 2.1 partner, 1.3 peer), so that it reorders neighbours, never the list.
    weights = {"partner": 1.0, "peer": 0.6}
    description = ("past exchanges of the item: a bounded plus for outcomes that helped, a "
                   "milder minus for outcomes that led to nothing; 0 without outcomes")
    normalise = "none"  # already bounded: [-MINUS_SHARE, 1]
    inline = True  # a few numpy passes: run in the request's thread

    def score(self, ctx: ScoringContext) -> np.ndarray:
        evidence = ctx.block.evidence
        scores = np.zeros(len(ctx.candidates))
        if not evidence:
            return scores
        summary = _summary(evidence)
        # an item without outcomes scores 0: only those with some are worked out
        with_outcomes = summary.with_outcomes[ctx.candidates]
        if with_outcomes.any():
            rows, topic = ctx.candidates[with_outcomes], ctx.query.category_probs
            scores[with_outcomes] = proven_scores(summary.good[rows] @ topic,
                                                  summary.bad[rows] @ topic, summary.base)
        return scores

    def reasons(self, ctx, positions, scores):
        helped = ctx.block.evidence.get("helped")
        lang, topic = ctx.ui_language, ctx.query.category
        out = []
        for p in positions:
            count = int(helped[ctx.candidates[p], topic]) if helped is not None else 0
            if scores[p] <= 0 or count == 0:
                out.append([])
            elif count == 1:
                out.append([_("helped 1 association with this before", lang)])
            else:
                out.append([_("helped {count} associations with this before", lang,
                              count=count)])
        return out


@hookimpl
def register_scorers(register) -> None:
    register(ProvenScorer())
