"""Suggestions for a caller: for one need, or across an association's needs.

Who may ask is :mod:`matcher.policy`'s (the association itself, its region's coordinators,
admins; partners never): a need the caller may not see is missing, whatever the route. Only
the association itself (or an admin) says it is not interested in a suggestion.
"""

from __future__ import annotations

from matcher import policy
from matcher.errors import Forbidden, InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine, SuggestionList
from matcher.vocabulary import KINDS


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


def not_interested(engine: Engine, who: Principal, need_id: str, kind: str,
                   item_id: str) -> tuple[dict, bool]:
    """The need's association (or an admin) marks a suggestion not interested: it is never
    suggested for that need again, and it is a label for ``matcher train``. Returns the
    mark and whether it is new (marking twice keeps the first). NotFound for a need ``who``
    may not see, or an unknown item; Forbidden for anyone else who sees the need."""
    need, association = need_for_suggestions(engine, who, need_id)
    if not policy.can_edit_association(who, association["id"]):
        raise Forbidden("only the association that posted the need (or an admin) may say "
                        "it is not interested in a suggestion")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    table, noun = ("offerings", "offering") if kind == "partner" else ("practices", "practice")
    if engine.store.get(table, item_id) is None:
        raise NotFound(f"no {noun} with id {item_id!r}")
    return engine.store.mark_not_interested(
        need_id, association["id"], kind, item_id, actor=who.actor, role=who.role.value,
        actor_org=who.association_id or who.partner_id)
