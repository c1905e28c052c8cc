"""Search (every signed-in role): the needs, partner offerings and practices whose words match
what was typed, as the caller may read them (:func:`matcher.services.profiles.search`), each
linking to its page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter

from api.pages.deps import CtxDep, SignedInDep
from api.pages.render import render
from matcher.services import profiles

router = APIRouter(include_in_schema=False)

MAX_QUERY = 200  # characters of a search kept
PER_KIND = 20


@router.get("/search")
def search_page(ctx: CtxDep, who: SignedInDep, q: str | None = None):
    typed = (q or "").strip()[:MAX_QUERY]
    found = profiles.search(ctx.engine, who, typed, ctx.lang, PER_KIND) if typed else {}
    ref, lang = ctx.engine.ref, ctx.lang
    sections = []
    for kind, (rows, total) in found.items():
        sections.append({"kind": kind, "total": total, "items": [{
            "href": f"/{kind}/{quote(row['id'])}",
            "title": row.get("title"),
            "text": row["description"] if kind == "offerings" else row["text"],
            "topic": ref.category_label(row["category"], lang) if row.get("category") else None} for row in rows]})
    return render(ctx, "shared/search.html", q=typed, sections=sections,
                  shown=PER_KIND)
