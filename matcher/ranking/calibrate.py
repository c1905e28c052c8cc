"""Fitting the strength calibration on a labelled set laid out like ``bench/dev``, and measuring it.

Every (need, candidate) pair that passes the hard filters is one example: label 1 when its qrels
grade is 2 or more, else 0 (an unlisted pair has grade 0: the sets list every graded pair).
Figures are cross-validated by need (GroupKFold): no pair is scored by a model that saw any
pair of its need.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from matcher.ranking import filters
from matcher.ranking.calibration import (
    FEATURES,
    Calibration,
    KindModel,
    embedder_moments,
    pair_features,
)
from matcher.ranking.engine import Engine
from matcher.ranking.scoring import ScoringContext, run_scorers
from matcher.vocabulary import KINDS

POSITIVE_GRADE = 2
QRELS_KEYS = {"partner": "partner_qrels", "peer": "peer_qrels"}
C = 1.0  # inverse L2 strength of the logistic regression (sklearn's default)


@dataclass
class Pairs:
    """The examples of one kind: features, labels, the need of each row (for grouping)."""

    kind: str
    features: list[str]
    x: np.ndarray
    y: np.ndarray
    needs: np.ndarray
    items: list[str]
    moments: dict[str, tuple[float, float]] = field(default_factory=dict)


def collect(engine: Engine, need_ids: Iterable[str], qrels: dict, kind: str,
            progress: Callable[[], None] | None = None) -> Pairs:
    """Features and labels of every admissible pair of ``kind`` for the labelled needs."""
    grades = qrels[QRELS_KEYS[kind]]
    corpus = engine.corpus()
    scorers = {name: r.scorer for name, r in engine.scorers().items()}
    names = list(FEATURES[kind])
    moments = embedder_moments(corpus, kind, engine.settings.embedders)
    xs, ys, needs, items = [], [], [], []
    for need_id in need_ids:
        if need_id in grades:  # a need with no labels in this track says nothing about it
            query = engine.query(need_id)
            candidates = filters.allowed(engine.hard_rules(need_id, kind))
            if len(candidates):
                ctx = ScoringContext(corpus, kind, query, candidates)
                wanted = {name: s for name, s in scorers.items() if kind in s.kinds}
                run = run_scorers(wanted, ctx, engine.settings.scorer_budget_ms * 20)
                xs.append(pair_features(ctx, np.arange(len(candidates)), run.scores, scorers,
                                        names, moments))
                ids = [corpus.block(kind).ids[int(i)] for i in candidates]
                ys.extend(int(grades[need_id].get(i, 0) >= POSITIVE_GRADE) for i in ids)
                needs.extend([need_id] * len(ids))
                items.extend(ids)
        if progress:
            progress()
    x = np.vstack(xs) if xs else np.zeros((0, len(names)))
    return Pairs(kind, names, x, np.array(ys, dtype=np.int64), np.array(needs), items,
                 moments)


def fit(x: np.ndarray, y: np.ndarray, features: list[str],
        moments: dict[str, tuple[float, float]] | None = None) -> KindModel:
    """A logistic regression over standardised features (NaN imputed by the mean);
    ``moments``, the embedders' cosine scales the features were computed with, go with it."""
    from sklearn.linear_model import LogisticRegression

    mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
    mean = np.where(np.isnan(mean), 0.0, mean)
    x = np.where(np.isnan(x), mean, x)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (x - mean) / scale
    if len(np.unique(y)) < 2:  # nothing to learn: the base rate everywhere
        rate = float(np.clip(y.mean() if len(y) else 0.0, 1e-6, 1 - 1e-6))
        return KindModel(features, mean, scale, np.zeros(len(features)),
                         float(np.log(rate / (1 - rate))), len(y), int(y.sum()),
                         dict(moments or {}))
    model = LogisticRegression(C=C, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(z, y)
    return KindModel(features, mean, scale, model.coef_[0].copy(), float(model.intercept_[0]),
                     len(y), int(y.sum()), dict(moments or {}))


def cross_validated(pairs: Pairs, folds: int = 5) -> np.ndarray:
    """Out-of-fold strengths: each need's pairs predicted by a model fitted without that need."""
    from sklearn.model_selection import GroupKFold

    out = np.full(len(pairs.y), np.nan)
    groups = len(set(pairs.needs.tolist()))
    if groups < 2:
        return out
    for train, test in GroupKFold(min(folds, groups)).split(pairs.x, pairs.y, pairs.needs):
        model = fit(pairs.x[train], pairs.y[train], pairs.features)
        out[test] = model.predict(pairs.x[test])
    return out


def figures(y: np.ndarray, p: np.ndarray, strong: float, bins: int = 10) -> dict[str, float]:
    """ECE (``bins`` equal-width bins), Brier score, AUC, and the share of ``strong``
    predictions (strength >= ``strong``) that are positive."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).sum()
              for b in range(bins) if (which == b).any()) / max(len(p), 1)
    top = p >= strong
    return {
        "pairs": int(len(y)), "positives": int(y.sum()),
        "ece": float(ece), "brier": float(brier_score_loss(y, p)),
        "auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "strong": int(top.sum()),
        "strong_precision": float(y[top].mean()) if top.any() else float("nan"),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrate(engine: Engine, folder: Path, need_ids: list[str], qrels: dict,
              folds: int = 5, progress: Callable[[], None] | None = None
              ) -> tuple[Calibration, dict[str, dict[str, float]]]:
    """Fit one model per kind on all the set's admissible pairs; return the calibration (with
    its provenance) and the cross-validated figures per kind."""
    import sklearn

    from matcher.ranking.calibration import LABELS

    strong = dict(LABELS)["strong"]
    models: dict[str, KindModel] = {}
    measured: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        pairs = collect(engine, need_ids, qrels, kind, progress)
        models[kind] = fit(pairs.x, pairs.y, pairs.features, pairs.moments)
        oof = cross_validated(pairs, folds)
        if not np.isnan(oof).any() and len(pairs.y):
            measured[kind] = figures(pairs.y, oof, strong)
    provenance = {
        "dataset": Path(folder).resolve().name,
        "dataset_sha256": sha256(Path(folder) / "dataset.json"),
        "qrels_sha256": sha256(Path(folder) / "qrels.json"),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": f"grade >= {POSITIVE_GRADE} in qrels; unlisted pairs are grade 0",
        "pairs": {kind: m.pairs for kind, m in models.items()},
        "positives": {kind: m.positives for kind, m in models.items()},
        "embedders": list(engine.settings.embedders),
        "model": f"logistic regression (C={C}) over standardised features, "
                 f"scikit-learn {sklearn.__version__}",
        "cross_validated": {kind: {k: round(v, 4) for k, v in f.items()}
                            for kind, f in measured.items()},
        "folds": folds,
    }
    return Calibration(models, provenance=provenance), measured
