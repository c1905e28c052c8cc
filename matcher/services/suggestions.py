"""Suggestions for a caller: for one need, across an association's needs, or the needs an
offering fits (partners finding needs).

Who may ask is :mod:`matcher.policy`'s (the association itself, its region's coordinators,
admins; partners never): a need the caller may not see is missing, whatever the route.

Working out a need's partner suggestions also keeps the store's list of unserved needs true
(:func:`note_unserved`): a list with none at least ``good`` marks the need, so that its
region's coordinators find it on their dashboard (the partners to recruit); a list with a good
one clears it. Only the association itself (or an admin) says it is not interested in a
suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence

from matcher import policy
from matcher.errors import Forbidden, InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine, SuggestionList
from matcher.ranking.fusion import parse_weight_overrides
from matcher.store import Claim
from matcher.vocabulary import KINDS
from matcher.workflow import lifecycle
from matcher.workflow.sensitive import neutral_summary


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
             limit: int = 10, weights: Sequence[str] | None = None,
             lang: str = "en") -> SuggestionList:
    """Ranked, explained suggestions of ``kind`` for a need ``who`` may ask about.
    ``weights``: fusion weight overrides as ``name:value`` items, read only once the caller
    may ask (a malformed one is InvalidInput, see :func:`parse_weight_overrides`)."""
    need_for_suggestions(engine, who, need_id)
    overrides = _parsed(engine, weights)
    result = engine.suggest(need_id, kind, limit, overrides, lang)
    if not overrides:  # the list as everyone sees it, not one re-weighted for an experiment
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
                    weights: Sequence[str] | None = None,
                    lang: str = "en") -> SuggestionList:
    """Suggestions across all of an association's needs, each item once (``weights`` as in
    :func:`for_need`)."""
    association_for_suggestions(engine, who, association_id)
    return engine.suggest_for_association(association_id, kind, limit,
                                          _parsed(engine, weights), lang)


def _parsed(engine: Engine, items: Sequence[str] | None) -> dict[str, float]:
    return parse_weight_overrides(items, engine.scorers()) if items else {}


def not_interested(engine: Engine, who: Principal, need_id: str, kind: str,
                   item_id: str, claim: Claim | None = None) -> tuple[dict, bool]:
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
        actor_org=who.association_id or who.partner_id, claim=claim)


def needs_for_offering(engine: Engine, who: Principal, offering_id: str, limit: int = 10,
                       lang: str = "en") -> list[dict]:
    """The open needs an offering fits now, strongest first, as ``who`` may read them: a
    sensitive need only as its neutral summary, with no association named and no reasons
    (they may quote it). Needs already matched with the offering are left out. For the
    offering's partner, coordinators (needs of their regions) and admins."""
    policy.require_offering_needs(who, engine.store.get("offerings", offering_id), offering_id)
    corpus = engine.corpus()
    regions = policy.offering_needs_regions(who)
    matched = {m["need_id"] for m in engine.store.open_matches()
               if m["kind"] == "partner" and m["item_id"] == offering_id}
    candidates = [nid for nid, need in corpus.needs.items() if nid not in matched and (
        regions is None
        or corpus.associations[need["association_id"]].get("region") in regions)]
    found = []
    for s in engine.needs_for_offering(offering_id, candidates, lang)[:limit]:
        need = corpus.needs[s.need_id]
        association = corpus.associations[need["association_id"]]
        sensitive = engine.is_sensitive(s.need_id)
        hidden = not policy.can_read_need_text(who, association, sensitive)
        category = need.get("category") or engine.need_category(s.need_id)[0]
        found.append({
            "need_id": s.need_id, "category": category,
            "text": neutral_summary(category, association, engine.ref, lang) if hidden
            else need["text"],
            "text_hidden": hidden,
            "association_id": None if hidden else association["id"],
            "association_name": None if hidden else association["name"],
            "country": None if hidden else association.get("country"),
            "region": association.get("region"),
            "score": s.score, "strength": s.strength, "strength_label": s.strength_label,
            "reasons": [] if hidden else s.reasons,
        })
    return found


def offer_help(engine: Engine, who: Principal, offering_id: str, need_id: str,
               claim: Claim | None = None) -> dict:
    """The partner offers the offering's help on a need it fits: a proposed match for the
    coordinators to review, as ``who`` reads it."""
    return lifecycle.view(engine, who, lifecycle.offer(engine, who, offering_id, need_id,
                                                       claim))


def exchanges(engine: Engine, who: Principal, association_id: str, limit: int = 10) -> dict:
    """Associations that could exchange with this one both ways: one of its practices fits
    a need of theirs, and one of theirs fits a need of its own (each pair past the hard
    rules, not weak). Each direction scores as its strongest pair; an exchange as the harmonic mean of
    the two, as reciprocal recommenders combine both sides. A need the caller may not read
    (sensitive, someone else's) takes no part."""
    association = association_for_suggestions(engine, who, association_id)
    corpus = engine.corpus()
    mine = {p["id"] for p in corpus.practices.records if p["association_id"] == association_id}
    they_help: dict[str, list[tuple[float, str, str]]] = {}
    for need in engine.store.needs(association_id):
        if need["id"] not in corpus.needs:
            continue
        for s in engine.suggest(need["id"], "peer", limit=len(corpus.practices),
                                explained=False).suggestions:
            if s.strength_label == "weak":
                continue
            they_help.setdefault(s.owner_id, []).append((_value(s), need["id"], s.item_id))
    you_help: dict[str, list[tuple[float, str, str]]] = {}
    if mine:
        for need_id, need in corpus.needs.items():
            other = need["association_id"]
            if other == association_id or other not in they_help:
                continue
            if not policy.can_read_need_text(who, corpus.associations[other],
                                             engine.is_sensitive(need_id)):
                continue
            for s in engine.suggest(need_id, "peer", limit=len(mine), explained=False,
                                    only=sorted(mine)).suggestions:
                if s.strength_label == "weak":
                    continue
                you_help.setdefault(other, []).append((_value(s), need_id, s.item_id))
    found = []
    for other in set(they_help) & set(you_help):
        inbound, outbound = max(they_help[other])[0], max(you_help[other])[0]
        if inbound <= 0 or outbound <= 0:
            continue
        found.append({
            "association_id": other,
            "score": round(2 * inbound * outbound / (inbound + outbound), 4),
            "they_help_you": [{"need_id": n, "practice_id": p}
                              for _, n, p in sorted(they_help[other], reverse=True)[:3]],
            "you_help_them": [{"need_id": n, "practice_id": p}
                              for _, n, p in sorted(you_help[other], reverse=True)[:3]],
        })
    found.sort(key=lambda e: (-e["score"], e["association_id"]))
    return {"association_id": association["id"], "exchanges": found[:limit]}


def _value(s) -> float:
    """A pair's strength (its fused score, floored at 0, without a calibration)."""
    return float(s.strength) if s.strength is not None else max(float(s.score), 0.0)
