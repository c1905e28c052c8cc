"""The fusion learned from decisions, as stored in the database, and which fusion is active.

``matcher train`` (:mod:`matcher.ranking.learn`) fits, per kind, a weight for each scorer
over the same normalised outputs that :func:`matcher.ranking.fusion.fuse` adds up, and stores
them in the ``fusion_models`` table with the date, the size and the decisions they saw. A
kind's learned weights replace its hand weights (the scorers' own and the settings') while
the model saw at least ``Settings.learn_min_decisions`` decisions of that kind; otherwise,
and for a kind the model does not cover, the hand weights stay.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from matcher.settings import MAX_WEIGHT

FORMAT_VERSION = 1
HAND, LEARNED = "hand", "learned"  # matcher.vocabulary.FUSION_SOURCES


@dataclass(frozen=True)
class KindFusion:
    """The learned weights of one kind and what they were learned from."""

    weights: dict[str, float]
    decisions: int
    positives: int

    @classmethod
    def from_json(cls, data: Mapping) -> KindFusion:
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        if not all(math.isfinite(v) and abs(v) <= MAX_WEIGHT for v in weights.values()):
            raise ValueError(f"learned weights must be finite and within +/-{MAX_WEIGHT:g}")
        return cls(weights, int(data["decisions"]), int(data.get("positives", 0)))


@dataclass(frozen=True)
class FusionModel:
    """One stored model: its id, date, size (bytes of JSON), decisions, and kinds."""

    id: int
    trained_at: str
    decisions: int
    size: int
    kinds: dict[str, KindFusion]

    @classmethod
    def from_row(cls, row: Mapping) -> FusionModel:
        model = row["model"]
        if model.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown fusion model format {model.get('format')!r}")
        return cls(int(row["id"]), str(row["trained_at"]), int(row["decisions"]),
                   int(row["size"]),
                   {kind: KindFusion.from_json(k) for kind, k in model["kinds"].items()})


@dataclass(frozen=True)
class FusionStatus:
    """Which fusion a kind uses now, in words and in fields."""

    source: str  # HAND or LEARNED
    decisions: int | None = None
    trained_at: str | None = None
    model_id: int | None = None

    @property
    def description(self) -> str:
        if self.source == HAND:
            return "hand weights"
        return f"learned from {self.decisions} decisions on {(self.trained_at or '')[:10]}"


class LearnedFusion:
    """The newest stored fusion model of a store, read again only when a newer one is saved."""

    def __init__(self, store, min_decisions: int):
        self.store = store
        self.min_decisions = min_decisions
        self._model: FusionModel | None = None
        self._lock = threading.Lock()

    def model(self) -> FusionModel | None:
        newest = self.store.latest_fusion_model_id()
        if newest is None:
            return None
        with self._lock:
            if self._model is None or self._model.id != newest:
                row = self.store.fusion_model(newest)
                self._model = None if row is None else FusionModel.from_row(row)
            return self._model

    def for_kind(self, kind: str) -> tuple[FusionModel, KindFusion] | None:
        """The model and its weights for ``kind``, when they are in use (enough decisions)."""
        model = self.model()
        fusion = model.kinds.get(kind) if model else None
        if model is None or fusion is None or fusion.decisions < self.min_decisions:
            return None
        return model, fusion

    def weights(self, kind: str, hand: Mapping[str, float]) -> dict[str, float]:
        """The weight table of ``kind``: the learned one when in use (a scorer it does not
        know, such as one installed since, keeps its hand weight), else ``hand``."""
        found = self.for_kind(kind)
        if found is None:
            return dict(hand)
        return {**hand, **found[1].weights}

    def status(self, kind: str) -> FusionStatus:
        found = self.for_kind(kind)
        if found is None:
            return FusionStatus(HAND)
        model, fusion = found
        return FusionStatus(LEARNED, fusion.decisions, model.trained_at, model.id)
