"""Fuse scorer outputs: normalise each over the candidate block, then a weighted sum."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from matcher.errors import InvalidInput
from matcher.ranking.scoring import Scorer
from matcher.settings import MAX_WEIGHT, weight_problem


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


# Every contribution is kept within +/-BOUND, so that a sum of them stays a finite float.
BOUND = 1e300


def _finite(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN as 0 and everything else clipped to +/-:data:`BOUND` (``values``
    itself when it is so already: the usual case, checked in one pass)."""
    with np.errstate(invalid="ignore"):
        if np.abs(values).max(initial=0.0) <= BOUND:  # False with a NaN
            return values
    return np.clip(np.nan_to_num(values, nan=0.0), -BOUND, BOUND)


def fuse(raw: dict[str, np.ndarray], scorers: dict[str, Scorer], weights: dict[str, float],
         n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The fused score of each of the ``n`` candidates and each scorer's weighted contribution
    (all zeros when no weighted scorer answered: the eligible candidates are still served).
    Scores and contributions are always finite, whatever the scorers' scales."""
    contributions: dict[str, np.ndarray] = {}
    total: np.ndarray | None = None
    with np.errstate(all="ignore"):  # overflows become +/-inf, then BOUND
        for name, values in raw.items():
            weight = float(weights.get(name, 0.0))
            if weight == 0.0:
                continue
            part = _finite(weight * normalise(_finite(values), scorers[name].normalise))
            contributions[name] = part
            total = part if total is None else total + part
    if total is None:
        total = np.zeros(n)
    return _finite(total), contributions


# A weight as the API's schema spells it: a decimal from -100 to 100, at most six decimals.
WEIGHT_NUMBER = r"-?(?:100(?:\.0{1,6})?|[0-9]{1,2}(?:\.[0-9]{1,6})?)"
_WEIGHT_ITEM = re.compile(rf"([^:=]*)[:=]({WEIGHT_NUMBER})")


def parse_weight_overrides(items: Iterable[str] | None, known: Iterable[str]) -> dict[str, float]:
    """``["lexical:0", "semantic=1.5"]`` -> ``{"lexical": 0.0, "semantic": 1.5}``; a scorer
    named twice takes its last value.

    Raises :class:`InvalidInput` for a malformed item (a number as the API's schema spells
    it), a weight beyond +/-:data:`~matcher.settings.MAX_WEIGHT`, or an unknown scorer.
    """
    known = set(known)
    weights: dict[str, float] = {}
    for item in items or []:
        found = _WEIGHT_ITEM.fullmatch(item)
        if not found or not found[1]:
            raise InvalidInput(f"expected name:number with a number from -{MAX_WEIGHT:g} to "
                               f"{MAX_WEIGHT:g}, got {_shown(item)}", field="weight")
        name, value = found[1].strip(), float(found[2])
        problem = weight_problem(value)
        if problem:
            raise InvalidInput(f"{problem}, got {_shown(item)}", field="weight")
        if name not in known:
            raise InvalidInput(f"unknown scorer {_shown(name)} (known: {', '.join(sorted(known))})",
                               field="weight")
        weights[name] = value
    return weights


def _shown(text: str, most: int = 40) -> str:
    """``text`` quoted for a message, shortened to ``most`` characters."""
    return repr(text if len(text) <= most else f"{text[:most]}…")
