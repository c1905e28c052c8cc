"""The matches that involve the partner's offerings: a list (by status) and one match, with the
introduction message for the partner once the association accepted it.

What a partner reads of a match is :func:`matcher.workflow.lifecycle.view`'s: a sensitive need is its
neutral summary (and no reasons or notes) until the association accepts the introduction.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, SignedInDep
from api.pages.library import lesson_block
from api.pages.match_talk import thread
from api.pages.partner import PER_PAGE, PartnerDep, page_number
from api.pages.render import render
from api.pages.session import PageNotFound
from matcher.errors import Conflict, NotFound
from matcher.services import profiles
from matcher.workflow import answers, introductions, lifecycle

router = APIRouter(include_in_schema=False)


def _since(raw: str | None) -> date | None:
    """A day typed as YYYY-MM-DD (what a date field sends); anything else is no filter."""
    try:
        return date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None


@router.get("/partner/matches")
def matches(ctx: CtxDep, engine: EngineDep, who: SignedInDep, partner: PartnerDep,
            status: str | None = None, page: str | None = None, offering: str | None = None,
            region: str | None = None, since: str | None = None):
    """The partner's matches, filtered by status, offering, the association's network and
    the day they were proposed from; filters that are not among the choices are left out."""
    ref = engine.ref
    own = profiles.offerings_of(engine, partner["id"])
    chosen = {"status": status if status in lifecycle.STATES else None,
              "offering": offering if offering in {o["id"] for o in own} else None,
              "region": region if region in ref.regions else None,
              "since": _since(since)}
    number = page_number(page)
    # the offering filter offers the offerings that have matches (and the one chosen)
    matched = {m["item_id"] for m in lifecycle.list_matches(engine, who, lifecycle.Filters(
        kind="partner", limit=10_000))[0]} | {chosen["offering"]}
    rows, total = lifecycle.list_matches(engine, who, lifecycle.Filters(
        statuses=[chosen["status"]] if chosen["status"] else None, kind="partner",
        item_id=chosen["offering"], region=chosen["region"], since=chosen["since"],
        sort="-created_at", limit=PER_PAGE, offset=(number - 1) * PER_PAGE))
    query = urlencode({k: str(v) for k, v in chosen.items() if v})
    return render(ctx, "partner/matches.html", partner=partner,
                  matches=[_shown(engine, who, row, ctx.lang) for row in rows],
                  chosen=chosen, filtered=any(chosen.values()),
                  offerings=[(o["id"], o["title"]) for o in own if o["id"] in matched],
                  regions=[(r, ref.region_label(r, ctx.lang)) for r in ref.regions],
                  query="&" + query if query else "",
                  page=number, pages=max(1, -(-total // PER_PAGE)), total=total)


@router.get("/partner/matches/{match_id}")
def match_page(ctx: CtxDep, engine: EngineDep, who: SignedInDep, partner: PartnerDep,
               match_id: str):
    try:
        number = int(match_id) if match_id.isascii() and match_id.isdigit() \
            and len(match_id) < 16 else -1
        match, _association = lifecycle.visible_match(engine, who, number)
    except NotFound:
        raise PageNotFound() from None
    return render(ctx, "partner/match.html", partner=partner,
                  match=_shown(engine, who, match, ctx.lang),
                  message=_introduction(engine, match),
                  can_answer=answers.can_answer(who, match),
                  comments=thread(engine, who, match["id"]),
                  lesson=lesson_block(engine, who, match, ctx.lang))


def _shown(engine, who, match: dict, lang: str) -> dict:
    """The match as the partner may read it, with its topic in words."""
    seen = lifecycle.view(engine, who, match, lang)
    return {**seen, "topic": engine.ref.category_label(seen["category"], lang)
            if seen["category"] else None}


def _introduction(engine, match: dict) -> dict | None:
    """The introduction message for the partner, once the association accepted, and the link
    that opens a WhatsApp chat with the association (when it has a number on file)."""
    if match["introduced_at"] is None:
        return None
    try:
        built = introductions.build(engine, match)
    except Conflict:  # one side no longer exists
        return None
    by_recipient = {m["recipient"]: m for m in built["messages"]}
    message = by_recipient.get("partner")
    if message is None:
        return None
    return message  # its chat_link opens a chat with the association, greeting ready
