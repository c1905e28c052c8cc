"""An association's matches: their status, and its answer to an approved introduction.

Everything goes through :mod:`matcher.workflow.lifecycle` (what the caller may see and do: ``view``,
``actions_for``, ``transition``); once the association accepts, the introduction written for
it comes from :func:`matcher.workflow.introductions.build`, with its WhatsApp click-to-chat links.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.association import own_association
from api.pages.coordinator import KIND_LABELS
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import Message
from api.pages.i18n import N_
from api.pages.library import lesson_block
from api.pages.match_talk import thread
from api.pages.render import home_for, redirect, render
from api.pages.session import PageNotFound, WebContext
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import profiles
from matcher.workflow import introductions, lifecycle

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ANSWERS = ("accept", "decline")  # what the association may do with an approved match
REACH = ("phone", "whatsapp", "email")  # at least one on file before accepting an introduction

NOTICES = {
    "accepted": N_("You accepted the introduction. Your introduction message is below: "
                   "write to them when you are ready."),
    "declined": N_("You declined the introduction. This match is now closed."),
}
_LINK = re.compile(r"(" + re.escape(introductions.WHATSAPP) + r"\S+)")


def message_parts(text: str) -> list[tuple[str, bool]]:
    """A plain-text message cut into (text, is_link) parts: its WhatsApp click-to-chat links
    become links on the page, the rest stays text (escaped where it is shown)."""
    return [(part, index % 2 == 1) for index, part in enumerate(_LINK.split(text)) if part]


def _match_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 15:
        raise PageNotFound()
    return int(raw)


def _visible(engine: Engine, who: Principal, match_id: str) -> dict:
    """A match of the caller's association (or a peer match on its practice); else 404."""
    own_association(engine, who)
    try:
        return lifecycle.visible_match(engine, who, _match_id(match_id))[0]
    except NotFound:
        raise PageNotFound() from None


def _introduction(engine: Engine, who: Principal, match: dict, lang: str) -> dict | None:
    """The introduction message written for the caller's side, once there is one."""
    if match["introduced_at"] is None:
        return None
    mine = "association" if match["association_id"] == who.association_id else "peer"
    try:
        built = introductions.build(engine, match)
    except Conflict:  # one side no longer exists
        return None
    message = next((m for m in built["messages"] if m["recipient"] == mine), None)
    if message is None:
        return None
    parts = message_parts(message["text"])
    return {**message, "parts": parts, "chat": message["chat_link"],
            "language_name": engine.ref.language_name(message["language"], lang)}


# ---------------------------------------------------------------------- pages
@router.get("/matches")
def matches(ctx: CtxDep, who: SignedInDep, engine: EngineDep, page: str | None = None,
            status: str | None = None, kind: str | None = None):
    """The association's matches, newest first, filtered by status and by kind (partner
    offerings or peer practices); filters that are not among the choices are left out."""
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = own_association(engine, who)
    chosen = {"status": status if status in lifecycle.STATES else None,
              "kind": kind if kind in KIND_LABELS else None}
    number = int(page) if page and page.isdigit() and len(page) < 7 else 1
    rows, total = lifecycle.list_matches(engine, who, lifecycle.Filters(
        statuses=[chosen["status"]] if chosen["status"] else None, kind=chosen["kind"],
        sort="-created_at", limit=PAGE_SIZE, offset=(max(1, number) - 1) * PAGE_SIZE))
    query = urlencode({k: v for k, v in chosen.items() if v})
    return render(ctx, "association/matches.html", association=association,
                  matches=[lifecycle.view(engine, who, row, ctx.lang) for row in rows],
                  chosen=chosen, filtered=any(chosen.values()), kinds=KIND_LABELS,
                  query="&" + query if query else "",
                  total=total, page=number, pages=max(1, -(-total // PAGE_SIZE)))


def reachable(association: dict | None) -> bool:
    """Whether the association has a phone, WhatsApp number or e-mail address on file."""
    contact = (association or {}).get("contact") or {}
    return any(contact.get(key) for key in REACH)


def _match_page(ctx: WebContext, engine: Engine, who: Principal, match: dict,
                status: int = 200, error: Message | None = None, note: str = ""):
    view = lifecycle.view(engine, who, match, ctx.lang)
    answers = [a for a in view["actions"] if a in ANSWERS]
    association = profiles.get(engine, "associations", who.association_id or "")
    return render(ctx, "association/match.html", status, match=view,
                  answers=answers,
                  ask_contact="accept" in answers and not reachable(association),
                  introduction=_introduction(engine, who, match, ctx.lang),
                  notice=NOTICES.get(ctx.request.query_params.get("done", "")),
                  error=error, note=note, own=match["association_id"] == who.association_id,
                  comments=thread(engine, who, match["id"]),
                  lesson=lesson_block(engine, who, match, ctx.lang),
                  item=_item(engine, who, match),
                  confidential=bool(match.get("redacted")) and match["introduced_at"] is None)


def _item(engine: Engine, who: Principal, match: dict) -> dict | None:
    """What the association is agreeing to: the offering's description (or the practice's
    text) and the page of the whole of it."""
    try:
        if match["kind"] == "partner":
            offering = profiles.offering(engine, who, match["item_id"])
            return {"text": offering.get("description") or "",
                    "link": f"/offerings/{quote(match['item_id'], safe='')}"}
        practice, _owner = profiles.practice(engine, who, match["item_id"])
        return {"text": practice["text"],
                "link": f"/practices/{quote(match['item_id'], safe='')}"}
    except (NotFound, Forbidden):  # deleted since
        return None


@router.get("/matches/{match_id}")
def match_page(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str):
    if who.role is not Role.ASSOCIATION:
        raise PageNotFound()
    return _match_page(ctx, engine, who, _visible(engine, who, match_id))


def _answer(ctx: WebContext, engine: Engine, who: Principal, match_id: str, action: str,
            form: dict[str, str]):
    match = _visible(engine, who, match_id)
    note = form.get("note", "").strip()
    version = form.get("version", "")
    if action == "accept" and match["status"] == "approved" \
            and not reachable(own_association(engine, who)):
        problem = _save_contact(engine, who, form)
        if problem is not None:
            return _match_page(ctx, engine, who, match, 422, problem)
    try:
        lifecycle.transition(engine, who, match["id"], action, note=note or None,
                             version=int(version) if version.isdigit() else None)
    except Conflict:  # changed meanwhile, or no longer approved
        return _match_page(ctx, engine, who, _visible(engine, who, match_id), 409, Message(
            N_("This match changed in the meantime: here is where it stands now.")))
    except InvalidInput:
        return _match_page(ctx, engine, who, match, 422, Message(
            N_("The note is too long: at most %(max)s characters."),
            {"max": lifecycle.MAX_NOTE}), note)
    except Forbidden:
        return _match_page(ctx, engine, who, match, 403, Message(
            N_("Only the association that asked for it answers this introduction.")))
    done = "accepted" if action == "accept" else "declined"
    return redirect(ctx, f"/matches/{match['id']}?done={done}" +
                    ("#introduction" if action == "accept" else ""))


def _save_contact(engine: Engine, who: Principal, form: dict[str, str]) -> Message | None:
    """Keep the phone, WhatsApp number or e-mail address given with an acceptance on the
    association's profile; what is wrong with them, if anything."""
    given = {key: form.get(f"contact_{key}", "").strip()[:254] or None for key in REACH}
    if not any(given.values()):
        return Message(N_("Give a phone number, a WhatsApp number or an e-mail address first, "
                          "so that they can reach you."))
    association = own_association(engine, who)
    contact = {**(association.get("contact") or {}),
               **{key: value for key, value in given.items() if value}}
    try:
        profiles.change_association(engine, who, association["id"], {"contact": contact})
    except (InvalidInput, Forbidden):
        return Message(N_("This phone number, WhatsApp number or e-mail address is not "
                          "valid."))
    return None


@router.post("/matches/{match_id}/accept")
def match_accept(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str,
                 form: FormDep):
    return _answer(ctx, engine, who, match_id, "accept", form)


@router.post("/matches/{match_id}/decline")
def match_decline(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str,
                  form: FormDep):
    return _answer(ctx, engine, who, match_id, "decline", form)
