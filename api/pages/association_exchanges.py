"""The association's "Associations you could exchange with": mutual peer exchanges, where
each side has a practice that fits a need of the other."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.association import own_association
from api.pages.deps import CtxDep, SignedInDep
from api.pages.render import home_for, redirect, render
from matcher.principals import Role
from matcher.services import profiles, suggestions

router = APIRouter(include_in_schema=False)

SHOWN = 10


def _headline(text: str, width: int = 110) -> str:
    first = text.split(". ")[0]
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


@router.get("/exchanges")
def exchanges(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = own_association(engine, who)
    found = suggestions.exchanges(engine, who, association["id"], SHOWN)["exchanges"]
    cards = []
    for e in found:
        other = profiles.get(engine, "associations", e["association_id"]) or {}

        def practice(pair: dict) -> str:
            row = profiles.get(engine, "practices", pair["practice_id"]) or {}
            return _headline(row.get("text", ""))

        def need(pair: dict, own: bool) -> str:
            """An own need's words; another association's need by its topic only (its text
            is for it and its coordinators)."""
            if own:
                return _headline((profiles.get(engine, "needs", pair["need_id"]) or {})
                                 .get("text", ""))
            return engine.ref.category_label(engine.need_category(pair["need_id"])[0],
                                             ctx.lang)
        cards.append({
            "name": other.get("name", ""),
            "place": engine.ref.country_name(other["country"], ctx.lang)
            if other.get("country") else "",
            "percent": round(100 * e["score"]),
            "they_help_you": [{"need": need(p, True), "practice": practice(p)}
                              for p in e["they_help_you"][:2]],
            "you_help_them": [{"need": need(p, False), "practice": practice(p)}
                              for p in e["you_help_them"][:2]],
        })
    return render(ctx, "association/exchanges.html", association=association, cards=cards)
