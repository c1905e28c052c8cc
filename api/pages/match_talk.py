"""Answering and talking about a match: the partner accepts or declines a match on its
offering (:mod:`matcher.workflow.answers`), and every party comments on it. Each form comes
back to the page of the match its author reads."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.render import redirect
from api.pages.session import PageNotFound
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.workflow import answers

router = APIRouter(include_in_schema=False)


def thread(engine, who: Principal, match_id: int) -> list[dict]:
    """The match's comments as ``who`` may read them, for its page."""
    try:
        return answers.comments(engine, who, match_id)
    except NotFound:
        return []


def page_of(who: Principal, match_id: int) -> str:
    """The page of the match its reader reads."""
    if who.role is Role.ASSOCIATION:
        return f"/matches/{match_id}"
    if who.role is Role.PARTNER:
        return f"/partner/matches/{match_id}"
    return f"/review/{match_id}"


def _match_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16 and 1 <= int(raw) <= 2**53):
        raise PageNotFound()
    return int(raw)


@router.post("/matches/{match_id}/comments")
def add_comment(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str,
                form: FormDep):
    """Anyone who may see the match; anyone else finds no such page."""
    number = _match_id(match_id)
    try:
        answers.comment(engine, who, number, form.get("body", ""))
    except NotFound:
        raise PageNotFound() from None
    except InvalidInput:
        return redirect(ctx, f"{page_of(who, number)}?problem=comment#comments")
    return redirect(ctx, f"{page_of(who, number)}?done=commented#comments")


@router.post("/partner/matches/{match_id}/answer")
def answer(ctx: CtxDep, who: SignedInDep, engine: EngineDep, match_id: str, form: FormDep):
    """The partner whose offering it is (or an admin); anyone else finds no such page."""
    number = _match_id(match_id)
    choice = form.get("answer", "")
    reason = form.get("reason", "") or None
    version = form.get("version", "")
    try:
        answers.answer(engine, who, number, choice,
                       reason=reason if choice == "declined" else None,
                       note=form.get("note", ""),
                       version=int(version) if version.isdigit() and len(version) < 16
                       else None)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    except InvalidInput:
        return redirect(ctx, f"/partner/matches/{number}?problem=answer#answer")
    except Conflict:
        return redirect(ctx, f"/partner/matches/{number}?problem=changed#answer")
    return redirect(ctx, f"/partner/matches/{number}?done={choice}#answer")
