"""Each scorer's contribution to a score as a bar (the ``_signals.html`` macro draws them):
on a need's suggestions and on a match's review page."""

from __future__ import annotations

from typing import TypedDict

from api.pages.labels import scorer_labels

BAR_STEPS = 20  # bar widths in steps of 5 %, as CSS classes (no inline style: see the CSP)


class SignalBar(TypedDict):
    name: str
    label: str | None  # None for a third-party scorer: shown by its name
    value: float
    width: int  # 0..100, in steps of 5: the CSS class w<width>
    negative: bool


def largest(contributions: dict[str, float]) -> float:
    """The largest magnitude among ``contributions`` (0 when there are none)."""
    return max((abs(value) for value in contributions.values()), default=0.0)


def signal_bars(contributions: dict[str, float] | None, scale: float | None = None,
                strongest_first: bool = False) -> list[SignalBar]:
    """One bar per scorer, its width relative to ``scale`` (the largest magnitude shown beside
    it; by default the largest of these ``contributions``). A non-zero contribution always
    shows a sliver of bar."""
    items = list((contributions or {}).items())
    if strongest_first:
        items.sort(key=lambda item: -item[1])
    if scale is None:
        scale = largest(dict(items))
    bars: list[SignalBar] = []
    for name, value in items:
        step = round(BAR_STEPS * abs(value) / scale) if scale > 0 else 0
        bars.append({"name": name, "label": scorer_labels().get(name), "value": value,
                     "width": 5 * (step or (1 if value else 0)), "negative": value < 0})
    return bars
