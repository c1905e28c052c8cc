"""Suggestions for one need (partners and peers, each with its strength in words, a short
summary, reasons and a bar per signal), the association asking for an introduction to one of
them (saved as a proposed match by :func:`matcher.workflow.lifecycle.propose`, which a
coordinator then reviews), and the whole of a suggested offering or practice.

When no partner suggestion is at least ``good`` the page says so, and that the region's
coordinators have been told: working the list out marked the need unserved
(:func:`matcher.services.suggestions.note_unserved`), and their dashboard lists it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.association import own_association
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import Message
from api.pages.i18n import N_, translations
from api.pages.labels import public_labels
from api.pages.render import redirect, render
from api.pages.session import PageNotFound, WebContext
from api.pages.signals import grouped, largest, signal_bars, strength_of
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine, Suggestion
from matcher.services import profiles, suggestions
from matcher.services.suggestions import need_for_suggestions
from matcher.workflow import lifecycle

router = APIRouter(include_in_schema=False)

DEFAULT_LIMIT, MAX_LIMIT = 5, 20
MAX_MATCHES = 500  # a need's matches read at once, to mark the suggestions already asked for


def _limit(raw: str | None) -> int:
    try:
        return min(MAX_LIMIT, max(1, int(raw))) if raw else DEFAULT_LIMIT
    except ValueError:
        return DEFAULT_LIMIT


def _card(s: Suggestion, scale: float, match: dict | None, lang: str) -> dict:
    """What a page shows of one suggestion: who, what (a summary, and where to read it all),
    how strong, why, a bar per signal (no engine named), and the match it already is (if it
    was asked for)."""
    return {"title": s.title, "owner": s.owner_name, "summary": s.summary,
            "strength": strength_of(s.strength, s.strength_label, lang), "reasons": s.reasons,
            "bars": signal_bars(s.contributions, scale, public=True), "item_id": s.item_id,
            "kind": s.kind, "match": match,
            "href": f"/{'offerings' if s.kind == 'partner' else 'practices'}/"
                    f"{quote(s.item_id)}"}


def _signal_names(names: set[str], lang: str) -> list[str]:
    """Failed scorers as the page names them: their public labels (no engine names)."""
    labels, gettext = public_labels(), translations(lang).gettext
    return sorted({gettext(labels[name]) if name in labels else name for name in names})


def _need(engine: Engine, who: Principal, need_id: str) -> tuple[dict, dict]:
    try:  # others' needs look exactly like missing ones; partners do not ask for suggestions
        return need_for_suggestions(engine, who, need_id)
    except (NotFound, Forbidden):
        raise PageNotFound() from None


def _asked(engine: Engine, who: Principal, need_id: str, raw: str | None) -> dict | None:
    """The match just asked for (``?asked=<id>``), if it is one of this need's."""
    if not raw or not raw.isdigit() or len(raw) > 15:
        return None
    try:
        match, _ = lifecycle.visible_match(engine, who, int(raw))
    except NotFound:
        return None
    return lifecycle.view(engine, who, match) if match["need_id"] == need_id else None


def _need_page(ctx: WebContext, engine: Engine, who: Principal, need_id: str,
               limit: str | None = None, status: int = 200, error: Message | None = None):
    need, association = _need(engine, who, need_id)
    count = _limit(limit)
    try:
        partners = suggestions.for_need(engine, who, need_id, "partner", count, lang=ctx.lang)
        peers = suggestions.for_need(engine, who, need_id, "peer", count, lang=ctx.lang)
        sensitive = engine.is_sensitive(need_id)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    rows, _ = lifecycle.list_matches(engine, who, lifecycle.Filters(
        need_id=need_id, limit=MAX_MATCHES))
    words = lifecycle.status_words(engine, rows)
    asked_for = {(m["kind"], m["item_id"]): {**m, "status_word": words[m["id"]]}
                 for m in rows}
    ref = engine.ref
    topic = ref.category_label(partners.category, ctx.lang) if partners.category else None
    scale = max((largest(grouped(s.contributions))
                 for s in partners.suggestions + peers.suggestions), default=0.0)
    return render(
        ctx, "association/need.html", status, need=need, association=association,
        topic=topic, topic_inferred=partners.category_inferred, sensitive=sensitive,
        partners=[_card(s, scale, asked_for.get(("partner", s.item_id)), ctx.lang)
                  for s in partners.suggestions],
        peers=[_card(s, scale, asked_for.get(("peer", s.item_id)), ctx.lang)
               for s in peers.suggestions],
        partners_weak=partners.weak, peers_weak=peers.weak,
        failed=_signal_names(set(partners.failed_scorers) | set(peers.failed_scorers),
                             ctx.lang),
        limit=count, more=min(MAX_LIMIT, count + 10) if count < MAX_LIMIT else None,
        computed_at=datetime.now(UTC), own=who.role is Role.ASSOCIATION,
        asked=_asked(engine, who, need_id, ctx.request.query_params.get("asked")),
        hidden=ctx.request.query_params.get("hidden") == "1",  # marked not interested
        added=ctx.request.query_params.get("added") == "1" and who.role is Role.ASSOCIATION,
        error=error)


@router.get("/needs/{need_id}")
def need_page(ctx: CtxDep, who: SignedInDep, engine: EngineDep, need_id: str,
              limit: str | None = None):
    return _need_page(ctx, engine, who, need_id, limit)


@router.post("/needs/{need_id}/ask")
def ask_for_introduction(ctx: CtxDep, who: SignedInDep, engine: EngineDep, need_id: str,
                         form: FormDep):
    """The association asks for an introduction to one suggestion of its own need."""
    association = own_association(engine, who)
    need, _ = _need(engine, who, need_id)
    if need["association_id"] != association["id"]:
        raise PageNotFound()
    kind, item_id = form.get("kind", ""), form.get("item_id", "")[:128]
    try:
        match = lifecycle.propose(engine, who, need_id, kind, item_id)
    except (NotFound, InvalidInput, Forbidden):
        raise PageNotFound() from None
    except Conflict:  # asked for already, or no longer a suggestion (rejected, full...)
        return _need_page(ctx, engine, who, need_id, status=409, error=Message(N_(
            "This suggestion cannot be asked for now: it was asked for already, or it no "
            "longer fits this need. The suggestions below are up to date.")))
    return redirect(ctx, f"/needs/{quote(need_id)}?asked={match['id']}#asked")


@router.get("/offerings/{offering_id}")
def offering_page(ctx: CtxDep, who: SignedInDep, engine: EngineDep, offering_id: str):
    """The whole of an offering, as suggested: every role may read offerings."""
    try:
        offering = profiles.offering(engine, who, offering_id)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    partner = profiles.get(engine, "partners", offering["partner_id"]) or {}
    return _item_page(ctx, engine, "partner", offering["title"], offering["description"],
                      offering["category"], partner.get("name"))


@router.get("/practices/{practice_id}")
def practice_page(ctx: CtxDep, who: SignedInDep, engine: EngineDep, practice_id: str):
    """The whole of a practice, as suggested: every role but partners may read practices."""
    try:
        practice, association = profiles.practice(engine, who, practice_id)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    return _item_page(ctx, engine, "peer", None, practice["text"], practice["category"],
                      association["name"])


def _item_page(ctx: WebContext, engine: Engine, kind: str, title: str | None, text: str,
               category: str | None, owner: str | None):
    ref = engine.ref
    return render(ctx, "association/item.html", kind=kind, title=title, text=text,
                  owner=owner, topic=ref.category_label(category, ctx.lang) if category
                  else None)
