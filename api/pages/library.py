"""The knowledge the exchanges make (:mod:`matcher.services.lessons`): the lesson form on a
match's page once its outcome is recorded (for the association, its counterpart and the
region's coordinators), the library of practices and lessons (every signed-in role), and the
promotion of a lesson into a practice of the association that learned it."""

from __future__ import annotations

import math
from urllib.parse import quote

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.match_talk import page_of
from api.pages.render import redirect, render
from api.pages.session import PageNotFound
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.language import KNOWN_LANGUAGES
from matcher.principals import Principal, Role
from matcher.services import knowledge, lessons

router = APIRouter(include_in_schema=False)

# The figures the form asks for (any others come through the API).
FIGURES = ("members_trained", "mercury_saved_kg", "loan_size")
MAX_QUERY = 200
PER_PAGE = 20


def lesson_block(engine, who: Principal, match: dict, lang: str) -> dict:
    """What a match's page shows of its lesson: the lessons ``who`` may read, whether it may
    write one now (and for which side), the text of its own side to edit."""
    try:
        shown = lessons.match_lessons(engine, who, match["id"], lang)
    except NotFound:
        return {"open": False, "lessons": []}
    side = lessons.own_side(who, match) or "coordinator"
    own = next((item for item in shown if item["side"] == side), None)
    return {"open": lessons.writable(engine, who, match), "lessons": shown, "side": side,
            "own": own, "publisher": who.is_admin or lessons.own_side(who, match) ==
            "association",
            "sensitive": any(item["sensitive"] for item in shown) or _sensitive(engine, match),
            "reviewer": who.role in (Role.ADMIN, Role.COORDINATOR),
            "figures": FIGURES}


def _sensitive(engine, match: dict) -> bool:
    try:
        return bool(match.get("redacted")) or engine.is_sensitive(match["need_id"])
    except NotFound:  # the need is gone: keep to caution
        return True


def _number(raw: str) -> int | float | None:
    raw = raw.strip().replace(",", ".").replace(" ", "")
    if not raw:
        return None
    value = float(raw)  # ValueError on anything else
    if not math.isfinite(value):
        raise ValueError(raw)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _match_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16 and 1 <= int(raw) <= 2**53):
        raise PageNotFound()
    return int(raw)


@router.post("/matches/{match_id}/lesson")
def write_lesson(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str,
                 form: FormDep):
    """The association, its counterpart, the region's coordinators (and admins); anyone else
    finds no such page."""
    number = _match_id(match_id)
    back = page_of(who, number)
    try:
        figures = {name: value for name in FIGURES
                   if (value := _number(form.get(name, ""))) is not None}
    except ValueError:
        return redirect(ctx, f"{back}?problem=figures#lesson")
    worked = form.get("worked", "")
    side = form.get("side") or None
    publish = form.get("publish", "")
    try:
        lessons.write(engine, who, number, form.get("text", ""),
                      {"yes": True, "no": False}.get(worked, worked), figures,
                      published=(publish == "on") if form.get("publish_asked") else None,
                      side=side if who.role in (Role.ADMIN, Role.COORDINATOR) else None,
                      lang=ctx.lang)
    except NotFound:
        raise PageNotFound() from None
    except (InvalidInput, Forbidden):
        return redirect(ctx, f"{back}?problem=lesson#lesson")
    except Conflict:
        return redirect(ctx, f"{back}?problem=lesson-early#lesson")
    return redirect(ctx, f"{back}?done=lesson#lesson")


def _filters(engine, query) -> tuple[dict, lessons.Filters]:
    ref = engine.ref
    chosen = {"q": (query.get("q") or "").strip()[:MAX_QUERY],
              "category": query.get("category") or "",
              "region": query.get("region") or "",
              "commodity": query.get("commodity") or "",
              "language": query.get("language") or ""}
    for key, known in (("category", ref.categories), ("region", ref.regions),
                       ("commodity", ref.commodities), ("language", KNOWN_LANGUAGES)):
        if chosen[key] and chosen[key] not in known:
            chosen[key] = ""
    page = query.get("page") or "1"
    number = int(page) if page.isdigit() and len(page) < 6 else 1
    return chosen, lessons.Filters(
        q=chosen["q"] or None, category=chosen["category"] or None,
        region=chosen["region"] or None, commodity=chosen["commodity"] or None,
        language=chosen["language"] or None, limit=PER_PAGE,
        offset=(max(1, number) - 1) * PER_PAGE)


@router.get("/library")
def library(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    chosen, f = _filters(engine, ctx.request.query_params)
    found = lessons.library(engine, who, f, ctx.lang)
    ref, lang = engine.ref, ctx.lang
    options = {
        "category": sorted(((c, ref.category_label(c, lang)) for c in ref.categories),
                           key=lambda o: o[1]),
        "region": [(r, ref.region_label(r, lang)) for r in ref.regions],
        "commodity": sorted(((c, ref.commodity_label(c, lang)) for c in ref.commodities),
                            key=lambda o: o[1]),
        "language": sorted(((c, ref.language_name(c, lang)) for c in KNOWN_LANGUAGES),
                           key=lambda o: o[1]),
    }
    # one page number for both lists; the links keep the filters
    pages = max(1, math.ceil(max(found["practices_total"], found["lessons_total"]) / PER_PAGE))
    query = "".join(f"&{key}={quote(value)}" for key, value in chosen.items() if value)
    return render(ctx, "shared/library.html", chosen=chosen, options=options, found=found,
                  figures=FIGURES, per_page=PER_PAGE, page=f.offset // PER_PAGE + 1,
                  pages=pages, query=query,
                  topic=lambda c: ref.category_label(c, lang) if c else None,
                  network=lambda r: ref.region_label(r, lang) if r else None,
                  language_name=lambda c: ref.language_name(c, lang))


@router.post("/lessons/{lesson_id}/practice")
def promote(ctx: CtxDep, who: SignedInDep, engine: EngineDep, lesson_id: str, form: FormDep):
    """The association that learned it, its region's coordinators, admins; anyone else finds
    no such page."""
    number = _match_id(lesson_id)
    try:
        made = lessons.promote(engine, who, number)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    except (Conflict, InvalidInput):
        return redirect(ctx, "/library?problem=promote")
    return redirect(ctx, f"/library?done=promoted&practice={made['practice']['id']}")


@router.get("/library/digest")
def digest(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    """The digest ``matcher knowledge export`` writes, as a page: practices (not for
    partners) and published lessons on a topic and in a network."""
    query = ctx.request.query_params
    ref = engine.ref
    topic = query.get("topic") if query.get("topic") in ref.categories else None
    region = query.get("region") if query.get("region") in ref.regions else None
    content = knowledge.digest(engine, topic, region, ctx.lang,
                               practices=who.role is not Role.PARTNER)
    return render(ctx, "shared/digest.html", d=content, figure_names=FIGURES,
                  options={"category": sorted(((c, ref.category_label(c, ctx.lang))
                                               for c in ref.categories), key=lambda o: o[1]),
                           "region": [(r, ref.region_label(r, ctx.lang))
                                      for r in ref.regions]})
