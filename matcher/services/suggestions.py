"""Suggestions for a caller: for one need, or across an association's needs.

Who may ask is :mod:`matcher.policy`'s (the association itself, its region's coordinators,
admins; partners never): a need the caller may not see is missing, whatever the route.

Working out a need's partner suggestions also keeps the store's list of unserved needs true
(:func:`note_unserved`): a list with none at least ``good`` marks the need, so that its
region's coordinators find it on their dashboard (the partners to recruit); a list with a good
one clears it.
"""

from __future__ import annotations

from matcher import policy
from matcher.errors import NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine, SuggestionList


def need_for_suggestions(engine: Engine, who: Principal, need_id: str) -> tuple[dict, dict]:
    """The need and its association, if ``who`` may ask for its suggestions: NotFound when
    it may not see the need, Forbidden for a partner."""
    need = engine.store.get("needs", need_id)
    association = need and engine.store.get("associations", need["association_id"])
    if need is None or not policy.can_see_association(who, association):
        raise NotFound(f"no need with id {need_id!r}")
    policy.require_suggestions(who, association, need["association_id"])
    return need, association  # type: ignore[return-value]


def for_need(engine: Engine, who: Principal, need_id: str, kind: str = "partner",
             limit: int = 10, weights: dict[str, float] | None = None,
             lang: str = "en") -> SuggestionList:
    """Ranked, explained suggestions of ``kind`` for a need ``who`` may ask about."""
    need_for_suggestions(engine, who, need_id)
    result = engine.suggest(need_id, kind, limit, weights, lang)
    if not weights:  # the list as everyone sees it, not one re-weighted for an experiment
        note_unserved(engine, result)
    return result


UNSERVED_KINDS = ("partner",)  # the dashboard's list shows which partners to recruit


def note_unserved(engine: Engine, result: SuggestionList) -> None:
    """Mark the list's need unserved when the list is weak, clear it when it is not."""
    if result.need_id is None or result.kind not in UNSERVED_KINDS:
        return
    if result.weak:
        best = max((s.strength for s in result.suggestions if s.strength is not None),
                   default=None)
        engine.store.mark_unserved(result.need_id, result.kind, best)
    else:
        engine.store.clear_unserved(result.need_id, result.kind)


def association_for_suggestions(engine: Engine, who: Principal, association_id: str) -> dict:
    """The association, if ``who`` may ask for suggestions across its needs."""
    return policy.require_suggestions(who, engine.store.get("associations", association_id),
                                      association_id)


def for_association(engine: Engine, who: Principal, association_id: str,
                    kind: str = "partner", limit: int = 10,
                    weights: dict[str, float] | None = None,
                    lang: str = "en") -> SuggestionList:
    """Suggestions across all of an association's needs, each item once."""
    association_for_suggestions(engine, who, association_id)
    return engine.suggest_for_association(association_id, kind, limit, weights, lang)
