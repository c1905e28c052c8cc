"""Fuse scorer outputs: normalise each over the candidate block, then a weighted sum."""

from __future__ import annotations

import re
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


# A weight as the API's schema spells it: at most six digits either side of the point.
WEIGHT_NUMBER = r"-?[0-9]{1,6}(?:\.[0-9]{1,6})?"
_WEIGHT_ITEM = re.compile(rf"([^:=]*)[:=]({WEIGHT_NUMBER})")


def parse_weight_overrides(items: Iterable[str] | None, known: Iterable[str]) -> dict[str, float]:
    """``["lexical:0", "semantic=1.5"]`` -> ``{"lexical": 0.0, "semantic": 1.5}``; a scorer
    named twice takes its last value.

    Raises :class:`InvalidInput` for a malformed item or an unknown scorer.
    """
    known = set(known)
    weights: dict[str, float] = {}
    for item in items or []:
        found = _WEIGHT_ITEM.fullmatch(item)
        if not found or not found[1]:
            raise InvalidInput(f"expected name:number, got {item!r}", field="weight")
        name = found[1]
        if name not in known:
            raise InvalidInput(f"unknown scorer {name!r} (known: {', '.join(sorted(known))})",
                               field="weight")
        weights[name] = float(found[2])
    return weights
