"""The coordinator's review queue (admins use it too, over every region): the matches of the
caller's regions, filtered, sorted and paged through a GET form; and bulk approval or rejection
of many proposed matches at once, each on its own like the API's ``/matches/bulk``.

Also what the other coordinator pages share: who is a reviewer, the regions a caller may choose
from, and form errors in plain words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter
from pydantic import ValidationError

from api.deps import EngineDep
from api.errors import status_for
from api.match_schemas import BulkApprove, BulkReject
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.i18n import N_
from api.pages.render import home_for, redirect, render
from api.pages.session import PageNotFound, WebContext
from api.pages.signals import strength_of
from matcher.errors import InvalidInput
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services.matches import bulk_review
from matcher.workflow import lifecycle

router = APIRouter(include_in_schema=False)

REVIEWERS = (Role.COORDINATOR, Role.ADMIN)
PAGE_SIZE = 20
MAX_DAYS = 36500

KIND_LABELS = {"partner": N_("Partner offering"), "peer": N_("Peer association")}
SORT_LABELS = {"created_at": N_("Oldest first"), "-created_at": N_("Newest first"),
               "-score": N_("Best score first")}

CHOOSE = N_("Choose from the list.")
NOTE_TOO_LONG = N_("A note has at most 2,000 characters.")


def is_reviewer(who: Principal) -> bool:
    return who.role in REVIEWERS


def region_choices(engine: Engine, who: Principal, lang: str) -> list[tuple[str, str]]:
    """(id, label) of the regions ``who`` reviews: a coordinator's own, every one for admins."""
    return [(region, engine.ref.region_label(region, lang)) for region in engine.ref.regions
            if who.covers_region(region)]


def category_choices(engine: Engine, lang: str) -> list[tuple[str, str]]:
    return sorted(((c, engine.ref.category_label(c, lang)) for c in engine.ref.category_ids),
                  key=lambda item: item[1])


def field_errors(exc: ValidationError, messages: Mapping[str, str],
                 whole: str = "form") -> dict[str, str]:
    """A schema's validation errors as one message per form field (``messages``: field ->
    message; an error about the whole request goes to ``whole``)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else whole
        errors.setdefault(name, messages.get(name, CHOOSE))
    return errors


# ---------------------------------------------------------------------- the queue
def parse_queue(engine: Engine, who: Principal, params: Mapping[str, str], lang: str
                ) -> tuple[dict[str, str], dict[str, str], lifecycle.Filters, int]:
    """The queue's GET form: what was typed (kept as is), an error per bad field, the filters
    and the page number. With no status given the queue shows proposed matches."""
    form = {key: (params.get(key) or "").strip()[:64] for key in
            ("status", "region", "category", "kind", "older_than", "min_score", "sort")}
    if "status" not in params:
        form["status"] = "proposed"
    errors: dict[str, str] = {}
    choices = {
        "status": lifecycle.STATES, "kind": tuple(KIND_LABELS), "sort": tuple(SORT_LABELS),
        "region": [r for r, _ in region_choices(engine, who, lang)],
        "category": engine.ref.category_ids,
    }
    for key, allowed in choices.items():
        if form[key] and form[key] not in allowed:
            errors[key] = CHOOSE
    older = _number(form["older_than"], whole=True)
    if form["older_than"] and (older is None or not 0 <= older <= MAX_DAYS):
        errors["older_than"] = N_("Enter a whole number of days, 0 or more.")
    score = _number(form["min_score"])
    if form["min_score"] and score is None:
        errors["min_score"] = N_("Enter a number, such as 2.5.")
    page = _number(params.get("page") or "1", whole=True)
    page = int(page) if page and page >= 1 else 1
    filters = lifecycle.Filters(
        statuses=[form["status"]] if form["status"] else None, region=form["region"] or None,
        category=form["category"] or None, kind=form["kind"] or None, min_score=score,
        older_than_days=int(older) if older is not None else None,
        sort=form["sort"] or "created_at", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return form, errors, filters, page


def _number(text: str, whole: bool = False) -> float | None:
    """A number typed in any of the page languages (a decimal comma is fine), or None."""
    text = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if whole:
        return float(text) if re.fullmatch(r"\d{1,6}", text) else None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= 1e9 else None


def queue_row(engine: Engine, who: Principal, match: dict, lang: str) -> dict:
    """What the queue shows of one match."""
    view = lifecycle.view(engine, who, match, lang)
    return {**view, "topic": engine.ref.category_label(view["category"], lang)
            if view["category"] else None,
            "region_label": engine.ref.region_label(view["region"], lang)
            if view["region"] else None,
            "strength": strength_of(view["strength"], view["strength_label"], lang),
            "selectable": "approve" in view["actions"] or "reject" in view["actions"]}


def queue_page(ctx: WebContext, who: Principal, engine: Engine, params: Mapping[str, str],
               status: int = 200, *, bulk: list[dict] | None = None,
               bulk_errors: dict[str, str] | None = None, bulk_form: dict[str, str] | None = None,
               selected: set[int] | None = None):
    """The queue page for the GET form ``params``; after a bulk action, with its results
    (``bulk``) or its errors and the input kept."""
    form, errors, filters, page = parse_queue(engine, who, params, ctx.lang)
    rows, total = [], 0
    if not errors:
        try:
            found, total = lifecycle.list_matches(engine, who, filters)
        except InvalidInput as exc:
            errors[exc.field or "status"] = CHOOSE
        else:
            rows = [queue_row(engine, who, match, ctx.lang) for match in found]
    query = {k: v for k, v in form.items() if v or k == "status"}
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render(
        ctx, "coordinator/queue.html", status=422 if errors else status, form=form,
        errors=errors, rows=rows, total=total, page=page, pages=pages,
        prev_url=f"/review?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/review?{urlencode({**query, 'page': page + 1})}" if page < pages else None,
        back=urlencode({**query, "page": page}),
        regions=region_choices(engine, who, ctx.lang),
        categories=category_choices(engine, ctx.lang), kinds=KIND_LABELS, sorts=SORT_LABELS,
        bulk=bulk, bulk_errors=bulk_errors or {}, bulk_form=bulk_form or {},
        selected=selected or set())


@router.get("/review")
def queue(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if not is_reviewer(who):
        return redirect(ctx, home_for(who.role))
    return queue_page(ctx, who, engine, ctx.request.query_params)


BULK_MESSAGES = {
    "ids": N_("Tick at least one match."),
    "action": N_("Choose to approve or to reject."),
    "reason": N_("Choose a reason for the rejection."),
    "note": NOTE_TOO_LONG,
}


@router.post("/review/bulk")
def bulk(ctx: CtxDep, who: SignedInDep, engine: EngineDep, form: FormDep):
    """Approve or reject the ticked matches; each result is reported, one failing leaves the
    others done. The queue is shown again with the filters it was sent from."""
    if not is_reviewer(who):
        raise PageNotFound()
    back = dict(parse_qsl(form.get("back", ""))[:20])
    ids = [int(key[1:]) for key, value in form.items() if re.fullmatch(r"m\d{1,15}", key)]
    action = form.get("action", "")
    kept = {"action": action, "reason": form.get("reason", ""), "note": form.get("note", "")}
    try:
        if action == "reject":
            body = BulkReject(action=action, ids=ids, note=kept["note"].strip() or None,
                              reason=kept["reason"] or None)
        else:  # a missing or unknown action is refused here, as "action"
            body = BulkApprove(action=action, ids=ids, note=kept["note"].strip() or None)
    except ValidationError as exc:
        return queue_page(ctx, who, engine, back, bulk_errors=field_errors(
            exc, BULK_MESSAGES, whole="reason"), bulk_form=kept, selected=set(ids),
            status=422)
    results = bulk_review(engine, who, body.ids, body.action, note=body.note,
                          reason=getattr(body, "reason", None), lang=ctx.lang)
    return queue_page(ctx, who, engine, back, bulk=[
        {"id": r.id, "ok": r.error is None,
         "status_code": 200 if r.error is None else status_for(r.error),
         "detail": None if r.error is None else str(r.error),
         "title": r.match["item_title"] if r.match else None,
         "status": r.match["status"] if r.match else None} for r in results])
