"""Fuse scorer outputs: normalise each over the candidate block, then a weighted sum."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from matcher.errors import InvalidInput
from matcher.scoring import Scorer


def normalise(values: np.ndarray, how: str) -> np.ndarray:
    """Put one scorer's raw scores on a common scale over the block."""
    if how == "none" or len(values) == 0:
        return values
    if how == "minmax":
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.zeros_like(values)
    if how == "zscore":
        std = float(values.std())
        return (values - values.mean()) / std if std > 1e-12 else np.zeros_like(values)
    raise ValueError(f"unknown normalisation {how!r}")


def fuse(raw: dict[str, np.ndarray], scorers: dict[str, Scorer], weights: dict[str, float],
         n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The fused score of each of the ``n`` candidates and each scorer's weighted contribution
    (all zeros when no weighted scorer answered: the eligible candidates are still served)."""
    contributions: dict[str, np.ndarray] = {}
    total: np.ndarray | None = None
    for name, values in raw.items():
        weight = float(weights.get(name, 0.0))
        if weight == 0.0:
            continue
        part = weight * normalise(values, scorers[name].normalise)
        contributions[name] = part
        total = part if total is None else total + part
    if total is None:
        total = np.zeros(n)
    return total, contributions


def parse_weight_overrides(items: Iterable[str] | None, known: Iterable[str]) -> dict[str, float]:
    """``["lexical:0", "semantic=1.5"]`` -> ``{"lexical": 0.0, "semantic": 1.5}``.

    Raises :class:`InvalidInput` for a malformed item, an unknown scorer or a repeat.
    """
    known = set(known)
    weights: dict[str, float] = {}
    for item in items or []:
        sep = ":" if ":" in item else "="
        name, found, raw = item.partition(sep)
        name = name.strip()
        try:
            value = float(raw) if found and name else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidInput(f"expected name:number, got {item!r}", field="weight")
        if name not in known:
            raise InvalidInput(f"unknown scorer {name!r} (known: {', '.join(sorted(known))})",
                               field="weight")
        if name in weights:
            raise InvalidInput(f"scorer {name!r} given twice", field="weight")
        weights[name] = value
    return weights
