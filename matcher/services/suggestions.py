"""Suggestions for a caller: for one need, or across an association's needs.

Who may ask is :mod:`matcher.policy`'s (the association itself, its region's coordinators,
admins; partners never): a need the caller may not see is missing, whatever the route.
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
    return engine.suggest(need_id, kind, limit, weights, lang)


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
