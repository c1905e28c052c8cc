"""Learning the fusion weights from decisions: ``matcher train``.

Labels (:func:`labels`): a coordinator's approval, an association's acceptance and a recorded
outcome say a pair was relevant; a rejection as not relevant or not eligible, an
association's decline and its "not interested" say it was not. A rejection for capacity or as
a duplicate says nothing about relevance and is left out. Later, stronger evidence weighs
more (an outcome over an acceptance over an approval).

Features (:func:`collect`): for each decided pair, every scorer's output normalised over the
need's candidates exactly as :func:`matcher.ranking.fusion.fuse` does, and the hand-weighted
fused score. The model (:func:`fit`) ranks: a logistic regression (scikit-learn, L2) over
the differences between a relevant and a non-relevant pair of the same need (a linear
RankNet / RankSVM), so that what is constant within a list cannot mislead it. It learns how far
to follow the hand weights and what to add to each scorer's weight: the learned table is
``a * hand + b``, scaled to the hand weights' total so that scores keep their size.

The learned table replaces a kind's hand weights only when, cross-validated by need on the
decisions themselves (:func:`held_out`), it puts more relevant-before-non-relevant pairs in
the right order than the hand weights do; otherwise the kind keeps its hand weights.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from matcher.errors import NotFound, NotReady
from matcher.ranking import filters
from matcher.ranking.fusion import _finite, normalise
from matcher.ranking.fusion_model import FORMAT_VERSION
from matcher.ranking.scoring import ScoringContext, run_scorers
from matcher.settings import MAX_WEIGHT
from matcher.vocabulary import KINDS, OUTCOMES

# How strongly the learned table is held to the hand weights: an adjustment costs as much as
# misranking the decisions of PRIOR_NEEDS needs would (L2, on standardised features).
PRIOR_NEEDS = 10.0

# What each decision says: (label, sample weight); None: nothing about relevance.
REJECTIONS: dict[str, tuple[int, float] | None] = {
    "not_relevant": (0, 1.0), "not_eligible": (0, 1.0), "other": (0, 0.5),
    "capacity": None, "duplicate": None}
APPROVED, ACCEPTED, OUTCOME = (1, 1.0), (1, 1.5), (1, 2.0)
DECLINED = NOT_INTERESTED = (0, 1.0)
USEFUL_OUTCOMES = tuple(o for o in OUTCOMES if o != "no_outcome")


@dataclass(frozen=True)
class Label:
    """One decided pair: 1 relevant, 0 not, its sample weight, and where it comes from."""

    need_id: str
    kind: str
    item_id: str
    y: int
    weight: float
    source: str  # "match:<id>" or "not_interested:<id>"


def match_label(row: Mapping) -> tuple[int, float] | None:
    """What one match's decisions say (see the module's docstring), or None."""
    actions = row["actions"]
    if row["status"] == "rejected":
        return REJECTIONS.get(row["reason"] or "other")
    if "decline" in actions:
        return DECLINED
    if row["outcome"] in USEFUL_OUTCOMES:
        return OUTCOME
    if row["introduced_at"] or "accept" in actions:
        return ACCEPTED
    if "approve" in actions:
        return APPROVED
    return None


def labels(store) -> list[Label]:
    """Every label the store holds: decided matches and not-interested marks. A pair marked
    not interested after a decision keeps both (each is a decision)."""
    out = []
    for row in store.match_decisions():
        said = match_label(row)
        if said is not None:
            out.append(Label(row["need_id"], row["kind"], row["item_id"], *said,
                             f"match:{row['id']}"))
    for row in store.not_interested_marks():
        out.append(Label(row["need_id"], row["kind"], row["item_id"], *NOT_INTERESTED,
                         f"not_interested:{row['id']}"))
    return out


@dataclass
class Examples:
    """The labelled pairs of one kind: normalised scorer outputs (columns ``scorers``)."""

    kind: str
    scorers: list[str]
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    needs: np.ndarray
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)



def collect(engine, found: Iterable[Label], kind: str) -> Examples:
    """Features of the labelled pairs of ``kind`` whose need and item are still in the
    corpus and still pass the need's lasting rules (capacity, rejections and not-interested
    marks aside: those are what the labels record)."""
    corpus = engine.corpus()
    block = corpus.block(kind)
    registered = engine.scorers()
    scorers = {name: r.scorer for name, r in sorted(registered.items())
               if kind in r.scorer.kinds}
    names = list(scorers)
    by_need: dict[str, list[Label]] = defaultdict(list)
    for label in found:
        if label.kind == kind:
            by_need[label.need_id].append(label)
    rows, ys, ws, needs, sources = [], [], [], [], []
    for need_id, need_labels in sorted(by_need.items()):
        try:
            query = engine.query(need_id)
        except (NotFound, NotReady):
            continue
        rules = filters.rules_for(corpus, kind, query.association)
        rules.pop("capacity", None)
        candidates = filters.allowed(rules)
        if not len(candidates):
            continue
        ctx = ScoringContext(corpus, kind, query, candidates)
        run = run_scorers(scorers, ctx, engine.settings.scorer_budget_ms * 20)
        z = np.column_stack([
            normalise(_finite(run.scores[name]), scorers[name].normalise)
            if name in run.scores else np.zeros(len(candidates)) for name in names])
        where = {int(index): pos for pos, index in enumerate(candidates)}
        for label in need_labels:
            pos = where.get(block.position.get(label.item_id, -1))
            if pos is None:
                continue
            rows.append(z[pos])
            ys.append(label.y)
            ws.append(label.weight)
            needs.append(need_id)
            sources.append(label.source)
    x = np.vstack(rows) if rows else np.zeros((0, len(names)))
    return Examples(kind, names, x, np.array(ys, dtype=np.int64), np.array(ws, dtype=float),
                    np.array(needs), sources)


def _expit(v: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(v)


def pairwise(examples: Examples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Differences of features between a relevant and a non-relevant pair of the same need,
    both ways round (label 1 and 0), weighted by the product of their weights, so that each
    need's pairs weigh 1 in all."""
    xs, ys, ws = [], [], []
    for need in np.unique(examples.needs):
        mine = examples.needs == need
        pos = np.flatnonzero(mine & (examples.y == 1))
        neg = np.flatnonzero(mine & (examples.y == 0))
        if len(pos) and len(neg):
            i, j = np.repeat(pos, len(neg)), np.tile(neg, len(pos))
            diff = examples.x[i] - examples.x[j]
            w = examples.weight[i] * examples.weight[j]
            w = w / (2 * w.sum())
            xs += [diff, -diff]
            ys += [np.ones(len(i)), np.zeros(len(i))]
            ws += [w, w]
    if not xs:
        return np.zeros((0, examples.x.shape[1])), np.zeros(0), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def fit(examples: Examples, hand: Mapping[str, float]) -> dict[str, float] | None:
    """Learned weights per scorer, ``a * hand + b`` scaled to the hand weights' total, or
    None when no need has both a relevant and a non-relevant decided pair (or no signal
    ranks the relevant ones first).

    ``a`` is how far the decisions follow the hand-weighted score alone (a one-feature
    logistic regression, scikit-learn; 0 when they go against it); ``b`` is the adjustment, fitted on top of it (the
    hand score as an offset) with an L2 penalty of :data:`PRIOR_NEEDS` on standardised
    features, by scipy's L-BFGS-B, so that no learned weight is negative. Each need's pairs
    weigh as much as one need."""
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    prior = np.array([float(hand.get(name, 0.0)) for name in examples.scorers])
    x, y, w = pairwise(examples)
    if len(y) == 0:
        return None
    sign = np.where(y == 1, 1.0, -1.0)
    h = x @ prior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = float(LogisticRegression(C=1e6, fit_intercept=False).fit(
            h[:, None], y, sample_weight=w).coef_[0][0]) if np.any(h) else 0.0
    a = max(a, 0.0)  # decisions against the hand weights: learn without them
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = x / scale

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        margin = sign * (a * h + z @ b)
        value = float(np.sum(w * np.logaddexp(0.0, -margin)) + PRIOR_NEEDS / 2 * b @ b)
        grad = -(z.T @ (w * sign * _expit(-margin))) + PRIOR_NEEDS * b
        return value, grad

    # no weight below 0: a signal counts for a pair or not at all (the pages show each as a bar)
    lowest = -a * prior * scale
    start = np.maximum(np.zeros(z.shape[1]), lowest)
    b = minimize(loss, start, jac=True, method="L-BFGS-B",
                 bounds=[(low, None) for low in lowest]).x
    learned = np.maximum(a * prior + b / scale, 0.0)
    total, hand_total = np.abs(learned).sum(), np.abs(prior).sum()
    if total <= 1e-12:
        return None  # no signal ranks the relevant pairs first
    if hand_total > 0:
        learned = learned * (hand_total / total)
    learned = np.clip(learned, -MAX_WEIGHT, MAX_WEIGHT)
    return {name: round(float(w), 6) for name, w in zip(examples.scorers, learned, strict=True)}


@dataclass
class TrainReport:
    """What ``train`` found and did, per kind: decisions, positives, and the weights (None:
    the kind stays on hand weights, ``why`` says why)."""

    decisions: dict[str, int] = field(default_factory=dict)
    positives: dict[str, int] = field(default_factory=dict)
    weights: dict[str, dict[str, float] | None] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    stored: dict | None = None  # the stored row (id, trained_at, decisions, size, ...)


def train(engine) -> TrainReport:
    """Fit the fusion of each kind with at least ``Settings.learn_min_decisions`` decisions,
    and store the model when any kind has one; the others stay on hand weights."""
    import scipy
    import sklearn

    threshold = engine.settings.learn_min_decisions
    found = labels(engine.store)
    report = TrainReport()
    kinds: dict[str, dict] = {}
    seen: list[str] = []
    for kind in KINDS:
        examples = collect(engine, found, kind)
        report.decisions[kind] = len(examples)
        report.positives[kind] = int(examples.y.sum())
        report.weights[kind] = None
        if len(examples) < threshold:
            report.why[kind] = f"{len(examples)} decisions, fewer than the {threshold} needed"
            continue
        hand = engine.hand_weights(kind)
        weights = fit(examples, hand)
        if weights is None:
            report.why[kind] = "no need has both a relevant and a non-relevant decision, " \
                               "or no signal ranks the relevant ones first: nothing to learn"
            continue
        report.weights[kind] = weights
        kinds[kind] = {"weights": weights, "hand": hand, "decisions": len(examples),
                       "positives": int(examples.y.sum())}
        seen.extend(examples.sources)
    if kinds:
        model = {"format": FORMAT_VERSION, "kinds": kinds, "threshold": threshold,
                 "model": f"pairwise logistic regression over the normalised scorer outputs, "
                          f"the hand-weighted score as offset, L2 {PRIOR_NEEDS:g} needs; "
                          f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}"}
        report.stored = engine.store.save_fusion_model(
            model, trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            decisions=len(seen), seen={"decisions": sorted(set(seen))})
    return report
