"""Each signal's part in a suggestion as a bar (the ``_signals.html`` macro draws them): on a
need's suggestions and on a match's review page; and a suggestion's strength in words.

A bar shows how much a signal counted *for* the suggestion, in words and a width: never a
figure without a unit, never a bar below zero (a signal that counted against it, or not at
all, shows an empty track and "not at all"). Association and partner pages group the scorers
by their public label, which names no engine; the coordinator's review page shows each.
"""

from __future__ import annotations

from typing import TypedDict

from api.pages.i18n import N_, format_percent
from api.pages.labels import STRENGTH_LABELS, public_labels, scorer_labels

BAR_STEPS = 20  # bar widths in steps of 5 %, as CSS classes (no inline style: see the CSP)
# How much a signal counted, in words, by its bar's width (at least this many %).
AMOUNTS = ((60, N_("counted a lot")), (25, N_("counted some")), (1, N_("counted a little")),
           (0, N_("did not count")))


class SignalBar(TypedDict):
    name: str
    label: str | None  # None for a third-party scorer without one: shown by its name
    value: float
    width: int  # 0..100, in steps of 5: the CSS class w<width>
    amount: str  # how much it counted, in words (a page message)
    negative: bool  # counted against the suggestion (drawn as an empty track)


def largest(contributions: dict[str, float]) -> float:
    """The largest part that counted for ``contributions`` (0 when none did)."""
    return max((value for value in contributions.values() if value > 0), default=0.0)


def grouped(contributions: dict[str, float] | None) -> dict[str, float]:
    """Contributions summed by public label (scorers sharing one, such as two embedding
    models, make one signal); a scorer without a label stays under its name."""
    labels = public_labels()
    out: dict[str, float] = {}
    for name, value in (contributions or {}).items():
        key = labels.get(name, name)
        out[key] = out.get(key, 0.0) + value
    return out


def signal_bars(contributions: dict[str, float] | None, scale: float | None = None,
                strongest_first: bool = False, public: bool = False) -> list[SignalBar]:
    """One bar per scorer (``public``: per public label, see :func:`grouped`, and only the
    signals that took part: one exactly zero, such as a history an item does not have yet,
    is left out of the associations' and partners' pages), its width relative to ``scale``
    (the largest part shown beside it; by default the largest of these). A part above zero
    always shows a sliver of bar."""
    items = list((grouped(contributions) if public else (contributions or {})).items())
    if public:
        items = [(name, value) for name, value in items if value != 0]
    if strongest_first:
        items.sort(key=lambda item: -item[1])
    if scale is None:
        scale = largest(dict(items))
    labels = {label: label for label in public_labels().values()} if public \
        else scorer_labels()
    bars: list[SignalBar] = []
    for name, value in items:
        step = round(BAR_STEPS * value / scale) if scale > 0 and value > 0 else 0
        width = 5 * (step or (1 if value > 0 else 0))
        bars.append({"name": name, "label": labels.get(name), "value": value, "width": width,
                     "amount": next(words for least, words in AMOUNTS if width >= least),
                     "negative": value < 0})
    return bars


def strength_of(strength: float | None, label: str | None, lang: str) -> dict | None:
    """A suggestion's strength as pages show it: its word (a page message) and a
    percentage ("Good match · 72 %"); None when there is none."""
    if strength is None or label not in STRENGTH_LABELS:
        return None
    return {"label": label, "words": STRENGTH_LABELS[label],
            "percent": format_percent(strength, lang)}
