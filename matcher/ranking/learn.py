"""Learning the fusion weights from decisions: ``matcher train``.

Labels (:func:`labels`): a coordinator's approval, an association's acceptance and a recorded
outcome say a pair was relevant; a rejection as not relevant or not eligible, an
association's decline and its "not interested" say it was not. A rejection for capacity or as
a duplicate says nothing about relevance and is left out. Later, stronger evidence weighs
more (an outcome over an acceptance over an approval).

Features (:func:`collect`): for each decided pair, every scorer's output normalised over the
need's candidates exactly as :func:`matcher.ranking.fusion.fuse` does, and the hand-weighted
fused score. The model (:func:`fit`) is a logistic regression over them (scikit-learn), with
L2 regularisation: it learns how far to follow the hand weights and what to add to each
scorer's weight, so the learned table is ``a * hand + b`` - with few decisions it stays
close to the hand weights, with many it moves where the labels lead. The table is scaled to
the hand weights' total so that scores keep their size.
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

C = 1.0  # inverse L2 strength of the logistic regression (sklearn's default)

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
    rows, ys, ws, sources = [], [], [], []
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
            sources.append(label.source)
    x = np.vstack(rows) if rows else np.zeros((0, len(names)))
    return Examples(kind, names, x, np.array(ys, dtype=np.int64), np.array(ws, dtype=float),
                    sources)


def fit(examples: Examples, hand: Mapping[str, float]) -> dict[str, float] | None:
    """Learned weights per scorer (``a * hand + b``, scaled to the hand weights' total), or
    None when the examples hold only one class."""
    from sklearn.linear_model import LogisticRegression

    if len(examples) == 0 or len(np.unique(examples.y)) < 2:
        return None
    prior = np.array([float(hand.get(name, 0.0)) for name in examples.scorers])
    x = np.column_stack([examples.x @ prior, examples.x])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=C, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit((x - mean) / scale, examples.y, sample_weight=examples.weight)
    coef = model.coef_[0] / scale
    learned = coef[0] * prior + coef[1:]
    total, hand_total = np.abs(learned).sum(), np.abs(prior).sum()
    if total > 1e-12 and hand_total > 0:
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
        weights = fit(examples, engine.hand_weights(kind))
        if weights is None:
            report.why[kind] = "the decisions all say the same (only approvals, or only " \
                               "rejections): nothing to learn"
            continue
        report.weights[kind] = weights
        kinds[kind] = {"weights": weights, "hand": engine.hand_weights(kind),
                       "decisions": len(examples), "positives": int(examples.y.sum())}
        seen.extend(examples.sources)
    if kinds:
        model = {"format": FORMAT_VERSION, "kinds": kinds, "threshold": threshold,
                 "model": f"logistic regression (C={C}) over the normalised scorer outputs "
                          f"and the hand-weighted score, scikit-learn {sklearn.__version__}"}
        report.stored = engine.store.save_fusion_model(
            model, trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            decisions=len(seen), seen={"decisions": sorted(set(seen))})
    return report
