"""Reviewing many matches at once: each one its own atomic change, in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from matcher.errors import MatcherError
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.workflow import lifecycle


@dataclass
class Reviewed:
    """One match of a bulk review: as ``who`` reads it once changed, or why it was not."""

    id: int
    match: dict | None
    error: MatcherError | None


def bulk_review(engine: Engine, who: Principal, ids: Iterable[int], action: str, *,
                note: str | None = None, reason: str | None = None,
                lang: str = "en") -> list[Reviewed]:
    """Approve or reject each match of ``ids`` (once each, in order) on its own: one failing
    leaves the others done. The API's bulk route and the review page call this."""
    results = []
    for match_id in dict.fromkeys(ids):
        try:
            match = lifecycle.transition(engine, who, match_id, action, note=note,
                                         reason=reason)
        except MatcherError as exc:
            results.append(Reviewed(match_id, None, exc))
        else:
            results.append(Reviewed(match_id, lifecycle.view(engine, who, match, lang), None))
    return results
