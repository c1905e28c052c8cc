"""One match for its reviewers: the need and the offering (or practice) side by side, each
scorer's contribution and the reasons, the actions its state allows (approve, reject with a
reason, introduce and mark active, record the outcome, close), and its audit trail.

Contributions are those stored with the match when it was proposed (see
:func:`matcher.workflow.lifecycle.propose`): the reviewer judges the signals the proposal stood on,
beside its stored score and reasons, even once the offering is full or the pair is rejected
(when a fresh suggestion would no longer list it), and the page costs no engine run.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ValidationError

from api.deps import EngineDep
from api.match_schemas import OutcomeRequest, RejectRequest, TransitionRequest
from api.pages.coordinator import NOTE_TOO_LONG, field_errors, is_reviewer
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.i18n import N_
from api.pages.library import lesson_block
from api.pages.match_talk import thread
from api.pages.render import ROLE_NAMES, redirect, render
from api.pages.session import PageNotFound, WebContext
from api.pages.signals import signal_bars, strength_of
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.services import profiles
from matcher.workflow import introductions, lifecycle

router = APIRouter(include_in_schema=False)

# What a reviewer does on this page, with the schema its form is checked against.
SCHEMAS = {"approve": TransitionRequest, "reject": RejectRequest,
           "activate": TransitionRequest, "record_outcome": OutcomeRequest,
           "close": TransitionRequest}
DONE = {
    "approve": N_("Approved: the association is now asked to accept the introduction."),
    "reject": N_("Rejected: this pair will not be proposed again."),
    "activate": N_("The follow-up is marked active."),
    "record_outcome": N_("The outcome is recorded."),
    "close": N_("The match is closed."),
}
MESSAGES = {
    "reason": N_("Choose a reason for the rejection."),
    "outcome": N_("Choose what came of it."),
    "note": NOTE_TOO_LONG,
    "version": N_("This form is out of date: reload the page and try again."),
    "form": N_("This form is out of date: reload the page and try again."),
}
CLOSE_NEEDS_NOTE = N_("Say in the note why you close this match before its outcome is "
                      "recorded.")
ROLES = {role.value: label for role, label in ROLE_NAMES.items()}


def _org_facts(engine: Engine, org: dict | None, lang: str) -> dict:
    """An association's or partner's profile, in words."""
    if org is None:
        return {}
    ref = engine.ref
    kind = org.get("type")
    return {
        "name": org["name"], "description": org.get("description"),
        "country": ref.country_name(org["country"], lang) if org.get("country") else None,
        "region": ref.region_label(org["region"], lang) if org.get("region") else None,
        "type": ref.partner_types.get(kind, {}).get("label", {}).get(lang, kind)
        if kind else None,
        "languages": [ref.language_name(c, lang) for c in org.get("languages") or []],
        "commodities": [ref.commodity_label(c, lang) for c in org.get("commodities") or []],
        "members": org.get("members"), "women_led": org.get("women_led"),
        "formal_license": org.get("formal_license"),
    }


def _item_side(engine: Engine, match: dict, lang: str) -> dict:
    """The offering (and its partner) or the practice (and its association)."""
    ref = engine.ref
    if match["kind"] == "partner":
        item = profiles.get(engine, "offerings", match["item_id"]) or {}
        owner = profiles.get(engine, "partners", match["owner_id"])
        where = ([ref.country_name(c, lang) for c in item.get("countries") or []]
                 or [ref.region_label(r, lang) for r in item.get("regions") or []])
        return {"kind": "partner", "title": item.get("title") or match["item_id"],
                "text": item.get("description"), "owner": _org_facts(engine, owner, lang),
                "topic": ref.category_label(item["category"], lang)
                if item.get("category") else None,
                "serves": where, "capacity": item.get("capacity"),
                "used": profiles.capacity_used(engine).get(match["item_id"], 0),
                "valid_until": item.get("valid_until"), "active": item.get("active"),
                "languages": [ref.language_name(c, lang) for c in item.get("languages") or []],
                "commodities": [ref.commodity_label(c, lang)
                                for c in item.get("commodities") or []]}
    item = profiles.get(engine, "practices", match["item_id"]) or {}
    owner = profiles.get(engine, "associations", match["owner_id"])
    return {"kind": "peer", "title": None, "text": item.get("text"),
            "owner": _org_facts(engine, owner, lang),
            "topic": ref.category_label(item["category"], lang)
            if item.get("category") else None}


def _introduction(engine: Engine, match: dict, lang: str) -> dict | None:
    """Both sides' messages, each in its language, once the association accepted."""
    if match["introduced_at"] is None:
        return None
    try:
        built = introductions.build(engine, match)
    except Conflict as exc:
        return {"error": str(exc), "messages": []}
    for message in built["messages"]:
        message["language_name"] = engine.ref.language_name(message["language"], lang)
    return built


def match_page(ctx: WebContext, who: Principal, engine: Engine, match_id: int,
               status: int = 200, *, failed: str | None = None,
               errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
               refused: str | None = None):
    """The page of one match; after a refused action, with why (``errors`` next to the fields
    of the ``failed`` action's form, its input kept; or ``refused``: a 409 or 403)."""
    if not is_reviewer(who):
        raise PageNotFound()
    try:
        match, association = lifecycle.visible_match(engine, who, match_id)
        trail = lifecycle.audit_trail(engine, who, match_id)
    except NotFound:
        raise PageNotFound() from None
    view = lifecycle.view(engine, who, match, ctx.lang)
    ref = engine.ref
    done = ctx.request.query_params.get("done")
    return render(
        ctx, "coordinator/match.html", status=status, match=view,
        need_topic=ref.category_label(match["category"], ctx.lang)
        if match["category"] else None,
        sensitive=engine.is_sensitive(match["need_id"]),
        association=_org_facts(engine, association, ctx.lang),
        item=_item_side(engine, match, ctx.lang),
        bars=signal_bars(match["contributions"], strongest_first=True),
        strength=strength_of(match.get("strength"), match.get("strength_label"), ctx.lang),
        actions=[a for a in view["actions"] if a in SCHEMAS],
        introduction=_introduction(engine, match, ctx.lang), trail=trail,
        comments=thread(engine, who, match_id),
        lesson=lesson_block(engine, who, match, ctx.lang),
        roles=ROLES,
        done=DONE[done] if status == 200 and done in DONE
        and lifecycle.TRANSITIONS[done].target == match["status"] else None,
        failed=failed, errors=errors or {},
        values=values or {}, refused=refused)


def _match_id(raw: str) -> int:
    """A match id from the path; anything else is a page that does not exist."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16 and 1 <= int(raw) <= 2**53):
        raise PageNotFound()
    return int(raw)


@router.get("/review/{match_id}")
def show(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str):
    return match_page(ctx, who, engine, _match_id(match_id))


@router.post("/review/{match_id}")
def act(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str, form: FormDep):
    """Perform the form's ``action`` at the version the page showed; a concurrent change or a
    step the state does not allow is shown on the page (409), nothing written."""
    if not is_reviewer(who):
        raise PageNotFound()
    number = _match_id(match_id)
    action = form.get("action", "")
    values = {key: form.get(key, "") for key in ("note", "reason", "outcome")}
    schema = SCHEMAS.get(action)
    if schema is None:
        return match_page(ctx, who, engine, number, 422, errors={"form": MESSAGES["form"]})
    extra = {key: values[key] or None for key in ("reason", "outcome")
             if key in schema.model_fields}
    try:
        body = schema(note=values["note"].strip() or None,
                      version=form.get("version") or None, **extra)
    except ValidationError as exc:
        return match_page(ctx, who, engine, number, 422, failed=action,
                          errors=field_errors(exc, MESSAGES), values=values)
    try:
        lifecycle.transition(engine, who, number, action, note=body.note,
                             version=body.version, **{key: getattr(body, key) for key in extra})
    except NotFound:
        raise PageNotFound() from None
    except (Conflict, Forbidden) as exc:
        return match_page(ctx, who, engine, number, 409 if isinstance(exc, Conflict)
                          else 403, failed=action, values=values, refused=str(exc))
    except InvalidInput as exc:
        message = CLOSE_NEEDS_NOTE if action == "close" and exc.field == "note" \
            else MESSAGES.get(exc.field or "form", MESSAGES["form"])
        return match_page(ctx, who, engine, number, 422, failed=action,
                          errors={exc.field or "form": message}, values=values)
    return redirect(ctx, f"/review/{number}?done={action}")

