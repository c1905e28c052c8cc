"""An association's pages: its profile, its needs and practices, and suggestions for one need."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, SignedInDep
from api.pages.render import N_, home_for, redirect, render
from api.pages.session import PageNotFound
from matcher import policy
from matcher.auth import Principal, Role
from matcher.engine import Engine, Suggestion
from matcher.errors import NotFound
from matcher.sensitive import is_sensitive

router = APIRouter(include_in_schema=False)

DEFAULT_LIMIT, MAX_LIMIT = 5, 20

# Each built-in scorer in plain words; a third-party scorer is shown by its name.
SCORER_LABELS = {
    "semantic": N_("Close in meaning"),
    "semantic_minilm": N_("Close in meaning (English model)"),
    "lexical": N_("Words in common"),
    "category": N_("Same topic"),
    "language": N_("A shared language"),
    "commodity": N_("Same minerals"),
    "geography": N_("Same country or network"),
}
BAR_STEPS = 20  # bar widths in steps of 5 %, as CSS classes (no inline style: see the CSP)


def _own_association(engine: Engine, who: Principal) -> dict:
    association = engine.store.get("associations", who.association_id or "")
    if association is None:
        raise PageNotFound()
    return association


def _labels(engine: Engine, lang: str, association: dict) -> dict:
    ref = engine.ref
    return {
        "country": ref.country_name(association["country"], lang),
        "region": ref.region_label(association["region"], lang),
        "languages": [ref.language_name(code, lang) for code in association["languages"] or []],
        "commodities": [ref.commodity_label(c, lang) for c in association["commodities"] or []],
    }


@router.get("/profile")
def profile(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = _own_association(engine, who)
    return render(ctx, "association/profile.html", association=association,
                  labels=_labels(engine, ctx.lang, association))


@router.get("/needs")
def needs(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = _own_association(engine, who)
    ref = engine.ref
    rows = [{**need, "topic": ref.category_label(need["category"], ctx.lang)
             if need["category"] else None,
             "sensitive": is_sensitive(need, None)}
            for need in engine.store.needs(association["id"])]
    practices = [{**p, "topic": ref.category_label(p["category"], ctx.lang)
                  if p["category"] else None}
                 for p in engine.store.practices() if p["association_id"] == association["id"]]
    return render(ctx, "association/needs.html", association=association, needs=rows,
                  practices=practices)


@router.get("/needs/{need_id}")
def need_page(ctx: CtxDep, who: SignedInDep, engine: EngineDep, need_id: str,
              limit: str | None = None):
    need = engine.store.get("needs", need_id)
    association = need and engine.store.get("associations", need["association_id"])
    # Others' needs look exactly like missing ones; partners do not ask for suggestions.
    if need is None or who.role is Role.PARTNER \
            or not policy.can_see_association(who, association):
        raise PageNotFound()
    count = _limit(limit)
    try:
        partners = engine.suggest(need_id, "partner", count, lang=ctx.lang)
        peers = engine.suggest(need_id, "peer", count, lang=ctx.lang)
        sensitive = engine.is_sensitive(need_id)
    except NotFound:
        raise PageNotFound() from None
    ref = engine.ref
    topic = ref.category_label(partners.category, ctx.lang) if partners.category else None
    scale = max([abs(v) for s in partners.suggestions + peers.suggestions
                 for v in s.contributions.values()] + [1e-9])
    return render(
        ctx, "association/need.html", need=need, association=association,
        topic=topic, topic_inferred=partners.category_inferred, sensitive=sensitive,
        partners=[_card(s, scale) for s in partners.suggestions],
        peers=[_card(s, scale) for s in peers.suggestions],
        failed=sorted(set(partners.failed_scorers) | set(peers.failed_scorers)),
        limit=count, more=min(MAX_LIMIT, count + 10) if count < MAX_LIMIT else None,
        computed_at=datetime.now(UTC),
        own=who.role is Role.ASSOCIATION)


def _limit(raw: str | None) -> int:
    try:
        return min(MAX_LIMIT, max(1, int(raw))) if raw else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT


def _card(s: Suggestion, scale: float) -> dict:
    """What a page shows of one suggestion: who, what, why, and a bar per scorer."""
    bars = []
    for name, value in s.contributions.items():
        step = round(BAR_STEPS * abs(value) / scale)
        bars.append({"name": name, "label": SCORER_LABELS.get(name), "value": value,
                     "width": 5 * (step or (1 if value else 0)), "negative": value < 0})
    return {"title": s.title, "owner": s.owner_name, "score": s.score, "reasons": s.reasons,
            "bars": bars, "item_id": s.item_id}
