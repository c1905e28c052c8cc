"""A calibrated strength for every suggestion: the probability that the pair is clearly relevant.

The fused ``score`` ranks a list but means nothing across lists: it is built from z-scores over
the candidate block. ``strength`` is a probability (0 to 1) that the pair would be judged
clearly relevant (grade >= 2 in a benchmark's qrels), from features of the pair alone - raw
similarities, category agreement, words in common, language fit - never from the rest of the
list. A logistic regression per kind (``partner``, ``peer``) over standardised features, fitted
by :mod:`matcher.ranking.calibrate` and stored as reviewable JSON (``data/calibration.json``):
coefficients, means, scales and where the labels came from. No pickles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matcher.ranking.corpus import Corpus
from matcher.ranking.scoring import Scorer, ScorerRun, ScoringContext, run_scorers

FILE_NAME = "calibration.json"
FORMAT_VERSION = 1

# The lowest strength of each label, best first; below the last one a suggestion is "weak".
LABELS: tuple[tuple[str, float], ...] = (("strong", 0.7), ("good", 0.4), ("possible", 0.15))
WEAK = "weak"

# The features of a pair, by kind. Grammar of a name:
#   score:<scorer>     the scorer's raw score (before normalisation over the list); a scorer
#                      that speaks only for some languages (``languages``) counts 0 outside them
#   log1p:<scorer>     log(1 + raw score), for unbounded non-negative scores (BM25)
#   cosine:<embedder>  the plain cosine of the need's and the candidate's vectors
#   meaning:cosine     the plain cosine by the model that speaks for the need's language (the
#                      first of ``MEANING_SCORERS`` whose scorer speaks for it: USE for its 16
#                      languages, e5 beyond them), as a z-score over that embedder's
#                      need-candidate pairs in the corpus, so that models compare
#   meaning:score      that scorer's hubness-corrected score, over the same embedder's spread
#   same_language      1 when the need and the candidate are written in the same language
#   category_given     1 when the need's category was given, 0 when inferred
#   category_confidence  the probability of the need's most likely category
MEANING_SCORERS = ("semantic", "semantic_e5")
_COMMON = ("meaning:score", "meaning:cosine", "score:semantic_minilm",
           "log1p:lexical", "score:category", "category_given", "category_confidence",
           "score:language", "score:commodity", "same_language")
FEATURES: dict[str, tuple[str, ...]] = {
    "partner": _COMMON,
    "peer": (*_COMMON, "score:geography"),
}


def label_of(strength: float, labels: Sequence[tuple[str, float]] = LABELS) -> str:
    """``strong``, ``good``, ``possible`` or ``weak`` for a strength."""
    for name, lowest in labels:
        if strength >= lowest:
            return name
    return WEAK


def _scorer_values(name: str, ctx: ScoringContext, positions: np.ndarray,
                   raw: Mapping[str, np.ndarray], scorers: Mapping[str, Scorer]) -> np.ndarray:
    """Raw scores of scorer ``name`` for the pairs at ``positions`` (NaN when it gave none).
    A scorer that speaks only for some languages (``languages``) fills the others with a
    placeholder taken from the list: they count 0, so that no feature depends on the list."""
    scorer = scorers.get(name)
    if scorer is None or name not in raw:
        return np.full(len(positions), np.nan)
    values = np.asarray(raw[name], dtype=np.float64)
    languages = getattr(scorer, "languages", None)
    if languages is not None:
        block_languages = ctx.block.languages
        ours = np.array([ctx.query.language in languages
                         and block_languages[int(ctx.candidates[p])] in languages
                         for p in positions], dtype=bool)
        values = np.where(ours, values, 0.0)
    return values


def feature_scorers(names: Sequence[str]) -> set[str]:
    """The scorers whose raw scores the features ``names`` read."""
    wanted = {name.partition(":")[2] for name in names
              if name.partition(":")[0] in ("score", "log1p")}
    if any(name.partition(":")[0] == "meaning" for name in names):
        wanted.update(MEANING_SCORERS)
    return wanted


def meaning_scorer(language: str, scorers: Mapping[str, Scorer]) -> Scorer | None:
    """The semantic scorer that speaks for a need in ``language`` (None when none does)."""
    for name in MEANING_SCORERS:
        scorer = scorers.get(name)
        speaks = getattr(scorer, "speaks_for", None)
        if scorer is not None and speaks is not None and speaks(language):
            return scorer
    return None


def embedder_moments(corpus: Corpus, kind: str, embedders: Sequence[str]
                     ) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of the cosine of every (need, candidate of ``kind``) pair
    in a corpus, per embedder: the scale that makes one model's similarities comparable with
    another's (no labels involved)."""
    out: dict[str, tuple[float, float]] = {}
    block = corpus.block(kind)
    for name in embedders:
        matrix, needs = block.vectors.get(name), corpus.need_vectors.get(name)
        if matrix is None or not needs or not len(block):
            continue
        sims = matrix @ np.vstack(list(needs.values())).T
        out[name] = (float(sims.mean()), float(max(sims.std(), 1e-6)))
    return out


def _meaning(feature: str, ctx: ScoringContext, positions: np.ndarray,
             raw: Mapping[str, np.ndarray], scorers: Mapping[str, Scorer],
             moments: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """``meaning:cosine`` or ``meaning:score`` of the pairs at ``positions`` (NaN when no
    model speaks for the need, or its scale is unknown)."""
    nan = np.full(len(positions), np.nan)
    scorer = meaning_scorer(ctx.query.language, scorers)
    embedder = getattr(scorer, "embedder", None)
    if scorer is None or embedder not in moments:
        return nan
    mean, std = moments[embedder]
    if feature == "meaning:score":
        values = raw.get(scorer.name)
        return nan if values is None else np.asarray(values, dtype=np.float64) / std
    matrix, vector = ctx.block.vectors.get(embedder), ctx.query.vectors.get(embedder)
    if matrix is None or vector is None or not len(positions):
        return nan
    return (matrix[ctx.candidates[positions]] @ vector - mean) / std


def pair_features(ctx: ScoringContext, positions: Sequence[int] | np.ndarray,
                  raw: Mapping[str, np.ndarray], scorers: Mapping[str, Scorer],
                  names: Sequence[str], moments: Mapping[str, tuple[float, float]] | None = None
                  ) -> np.ndarray:
    """The ``names`` features of each pair (need, ``ctx.candidates[p]``) for ``p`` in
    ``positions``, one row per pair; NaN where a feature is unavailable. ``raw`` holds, for
    each scorer that gave them, its raw scores of those pairs (one per position); ``moments``
    each embedder's cosine scale (:func:`embedder_moments`), for the ``meaning`` features."""
    positions = np.asarray(positions, dtype=np.int64)
    rows = ctx.candidates[positions]
    block, query = ctx.block, ctx.query
    out = np.full((len(positions), len(names)), np.nan)
    for j, feature in enumerate(names):
        kind, _, arg = feature.partition(":")
        if kind == "score":
            out[:, j] = _scorer_values(arg, ctx, positions, raw, scorers)
        elif kind == "log1p":
            out[:, j] = np.log1p(np.maximum(_scorer_values(arg, ctx, positions, raw, scorers),
                                            0.0))
        elif kind == "cosine":
            matrix, vector = block.vectors.get(arg), query.vectors.get(arg)
            if matrix is not None and vector is not None and len(rows):
                out[:, j] = matrix[rows] @ vector
        elif kind == "meaning":
            out[:, j] = _meaning(feature, ctx, positions, raw, scorers, moments or {})
        elif feature == "same_language":
            out[:, j] = [block.languages[int(r)] == query.language for r in rows]
        elif feature == "category_given":
            out[:, j] = float(query.category_given)
        elif feature == "category_confidence":
            out[:, j] = query.category_confidence
    return out


@dataclass
class KindModel:
    """Logistic regression over standardised features, for one kind."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    pairs: int = 0
    positives: int = 0
    moments: dict[str, tuple[float, float]] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The strength of each row of ``x`` (features in ``self.features`` order); a missing
        (NaN) feature counts as its training mean."""
        x = np.where(np.isnan(x), self.mean, x)
        z = (x - self.mean) / self.scale @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def to_json(self) -> dict:
        return {"features": self.features, "mean": _rounded(self.mean),
                "scale": _rounded(self.scale), "coef": _rounded(self.coef),
                "intercept": round(float(self.intercept), 8),
                "pairs": self.pairs, "positives": self.positives,
                "moments": {name: [round(m, 8), round(sd, 8)]
                            for name, (m, sd) in self.moments.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> KindModel:
        features = [str(f) for f in data["features"]]
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ValueError("mean, scale and coef must have one number per feature")
        mean, scale, coef = arrays
        intercept = float(data["intercept"])
        if not (np.all(np.isfinite(np.concatenate(arrays))) and math.isfinite(intercept)
                and np.all(scale > 0)):
            raise ValueError("calibration numbers must be finite, scales positive")
        moments = {str(name): (float(m), float(sd))
                   for name, (m, sd) in dict(data.get("moments", {})).items()}
        if not all(math.isfinite(m) and sd > 0 for m, sd in moments.values()):
            raise ValueError("embedder moments must be finite, deviations positive")
        return cls(features, mean, scale, coef, intercept, int(data.get("pairs", 0)),
                   int(data.get("positives", 0)), moments)


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 8) for v in values]


@dataclass
class Calibration:
    """The strength models per kind, the label thresholds, and where the labels came from."""

    kinds: dict[str, KindModel]
    labels: list[tuple[str, float]] = field(default_factory=lambda: list(LABELS))
    provenance: dict = field(default_factory=dict)

    def strengths(self, ctx: ScoringContext, positions: Sequence[int] | np.ndarray,
                  run: ScorerRun, scorers: Mapping[str, Scorer], budget_ms: float
                  ) -> np.ndarray | None:
        """The strength of each pair at ``positions`` (into ``ctx.candidates``), or None when
        no model covers the kind. ``run`` is the request's scorer run; the scorers a feature
        needs that did not run (a weight of 0) are run, isolated, on those pairs alone, and a
        feature whose scorer failed counts as its training mean."""
        model = self.kinds.get(ctx.kind)
        if model is None:
            return None
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) == 0:
            return np.zeros(0)
        raw = {name: values[positions] for name, values in run.scores.items()}
        missing = {name: scorers[name] for name in feature_scorers(model.features)
                   if name in scorers and ctx.kind in scorers[name].kinds
                   and name not in raw and name not in run.failed}
        if missing:
            sub = ScoringContext(ctx.corpus, ctx.kind, ctx.query, ctx.candidates[positions],
                                 ctx.ui_language, ctx.threads)
            raw.update(run_scorers(missing, sub, budget_ms).scores)
        return model.predict(pair_features(ctx, positions, raw, scorers, model.features,
                                           model.moments))

    def label(self, strength: float) -> str:
        return label_of(strength, self.labels)

    @property
    def good(self) -> float:
        """The lowest strength labelled ``good`` (or better)."""
        return dict(self.labels)["good"]

    def to_json(self) -> dict:
        return {"format": FORMAT_VERSION,
                "target": "probability that the pair is clearly relevant (grade >= 2)",
                "labels": {name: lowest for name, lowest in self.labels},
                "provenance": self.provenance,
                "kinds": {kind: model.to_json() for kind, model in self.kinds.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> Calibration:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown calibration format {data.get('format')!r}")
        labels = sorted(((str(k), float(v)) for k, v in data["labels"].items()),
                        key=lambda item: -item[1])
        if [name for name, _ in labels] != [name for name, _ in LABELS]:
            raise ValueError(f"labels must be {', '.join(name for name, _ in LABELS)}")
        return cls({kind: KindModel.from_json(m) for kind, m in data["kinds"].items()},
                   labels, dict(data.get("provenance", {})))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")


def load_calibration(path: Path) -> Calibration:
    """Read a calibration file (ValueError or OSError when it is missing or malformed)."""
    with open(path, encoding="utf-8") as fh:
        return Calibration.from_json(json.load(fh))


def calibration_path(explicit: Path | None, data_dir: Path) -> Path:
    """The file named in settings, else ``calibration.json`` in the reference data folder."""
    return Path(explicit) if explicit else Path(data_dir) / FILE_NAME
