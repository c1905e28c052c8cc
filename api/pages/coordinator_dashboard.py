"""A region's dashboard (coordinators: one of their regions, or all of them; admins: any):
the figures of :mod:`matcher.services.dashboard`, with bar charts drawn on the server as SVG."""

from __future__ import annotations

from urllib.parse import urlencode

from babel.numbers import format_percent
from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.charts import Bar, bar_chart
from api.pages.coordinator import CHOOSE, is_reviewer, region_choices
from api.pages.deps import CtxDep, SignedInDep
from api.pages.i18n import N_, format_number, translations
from api.pages.labels import STATUS_LABELS
from api.pages.render import home_for, redirect, render
from matcher.errors import InvalidInput
from matcher.services import dashboard

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def show(ctx: CtxDep, who: SignedInDep, engine: EngineDep, region: str | None = None):
    if not is_reviewer(who):
        return redirect(ctx, home_for(who.role))
    lang, ref = ctx.lang, engine.ref
    region = (region or "").strip()[:64] or None
    choices = region_choices(engine, who, lang)
    try:
        figures = dashboard.summary(engine, who, region, lang)
    except InvalidInput:
        return render(ctx, "coordinator/dashboard.html", status=422, regions=choices,
                      region=region or "", errors={"region": CHOOSE}, figures=None)
    gettext = translations(lang).gettext
    statuses = [(gettext(STATUS_LABELS[s]), n, queue_link(region, status=s))
                for s, n in figures.by_status.items()]
    categories = [(ref.category_label(c, lang), n, queue_link(region, category=c))
                  for c, n in figures.by_category.items()]
    return render(
        ctx, "coordinator/dashboard.html", regions=choices, region=region or "", errors={},
        all_matches=queue_link(region),
        figures=figures, status_rows=statuses, categories=categories,
        region_names=[ref.region_label(r, lang) for r in figures.regions],
        unserved=[{"topic": ref.category_label(g.category, lang),
                   "region": ref.region_label(g.region, lang), "needs": g.needs}
                  for g in figures.unserved],
        rate=format_percent(figures.acceptance_rate, locale=lang)
        if figures.acceptance_rate is not None else None,
        chart_status=bar_chart(
            "chart-status", gettext(N_("Matches by status")),
            gettext(N_("How many matches are in each step of the review, from proposed to "
                       "closed.")), _bars(statuses, lang)),
        chart_category=bar_chart(
            "chart-category", gettext(N_("Open needs by topic")),
            gettext(N_("How many open needs there are on each topic (given, or guessed from "
                       "the text).")), _bars(categories, lang)) if categories else None)


def queue_link(region: str | None, status: str = "", category: str | None = None) -> str:
    """The review queue showing the matches behind a figure: of ``status`` (every status
    when empty), on ``category``, in ``region`` (else every region of the caller's)."""
    params = {"status": status, **({"category": category} if category else {}),
              **({"region": region} if region else {})}
    return f"/review?{urlencode(params)}"


def _bars(rows: list[tuple[str, int, str]], lang: str) -> list[Bar]:
    return [Bar(label, count, format_number(count, lang)) for label, count, _ in rows]
