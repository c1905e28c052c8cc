"""A partner's answer to a match on its offering, and each match's comment thread.

The partner accepts or declines (a decline with a reason of
``matcher.vocabulary.PARTNER_DECLINE_REASONS``, both with an optional note) while the match is
open (``ANSWERABLE_STATES``); it may change its mind. The answer sits beside the status: the
state machine of :mod:`matcher.workflow.lifecycle` is unchanged, and the coordinators, who
decide, are told (event ``partner_answered``). The answer and its audit row are one
transaction, guarded by the match's version.

Everyone who may see a match (:func:`matcher.policy.can_see_match`) reads its comments and may
add one; the others are told of it (event ``commented``, never its words). While the match is
redacted for the reader (:func:`lifecycle.redacted`), a comment of the association's side names
no one: its author reads as "association".
"""

from __future__ import annotations

from matcher import policy
from matcher.errors import Conflict, Forbidden, InvalidInput
from matcher.principals import Principal
from matcher.store import Claim
from matcher.vocabulary import (
    ANSWERABLE_STATES,
    MAX_COMMENT,
    PARTNER_ANSWERS,
    PARTNER_DECLINE_REASONS,
)
from matcher.workflow import lifecycle, notifications


def can_answer(who: Principal, match: dict) -> bool:
    """Whether ``who`` can answer ``match`` now (its partner or an admin, while it is open)."""
    return match["status"] in ANSWERABLE_STATES and policy.may_answer_match(who, match)


def answer(engine, who: Principal, match_id: int, answer: str, *, reason: str | None = None,
           note: str | None = None, version: int | None = None) -> dict:
    """Record the partner's answer to a match on its offering, and tell the coordinators."""
    match, association = lifecycle.visible_match(engine, who, match_id)
    if not policy.may_answer_match(who, match):
        raise Forbidden("only the partner whose offering it is, or an admin, may answer a match")
    if answer not in PARTNER_ANSWERS:
        raise InvalidInput(f"an answer is one of: {', '.join(PARTNER_ANSWERS)}", field="answer")
    if answer == "declined" and reason not in PARTNER_DECLINE_REASONS:
        raise InvalidInput("declining needs a reason, one of: "
                           f"{', '.join(PARTNER_DECLINE_REASONS)}", field="reason")
    if answer == "accepted" and reason is not None:
        raise InvalidInput("only a decline takes a reason", field="reason")
    note = (note or "").strip() or None
    if note is not None and len(note) > lifecycle.MAX_NOTE:
        raise InvalidInput(f"at most {lifecycle.MAX_NOTE} characters", field="note")
    if version is not None and version != match["version"]:
        raise Conflict(f"match {match_id} is at version {match['version']}, not {version}; "
                       "reload it and try again")
    if match["status"] not in ANSWERABLE_STATES:
        raise Conflict(f"a match that is {match['status']} cannot be answered any more")
    store = engine.store
    with store.writing():  # the answer, its audit row and whom it is told to: one transaction
        changed = store.answer_match(
            match_id, version=match["version"], status=match["status"], answer=answer,
            reason=reason, note=note, actor=who.actor, role=who.role.value,
            actor_org=who.partner_id)
        notifications.on_partner_answer(engine, changed, note)
    return changed


def comments(engine, who: Principal, match_id: int) -> list[dict]:
    """The match's comments, oldest first, as ``who`` may read them."""
    match, association = lifecycle.visible_match(engine, who, match_id)
    hidden = lifecycle.redacted(engine, who, match, association)
    return [_shown(row, who, match, hidden) for row in engine.store.comments(match_id)]


def comment(engine, who: Principal, match_id: int, body: str,
            claim: Claim | None = None) -> dict:
    """Add ``who``'s comment to the match's thread (audited)."""
    match, association = lifecycle.visible_match(engine, who, match_id)
    text = (body or "").strip()
    if not text:
        raise InvalidInput("a comment needs some text", field="body")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"at most {MAX_COMMENT} characters", field="body")
    store = engine.store
    with store.writing():  # the comment, its audit row and whom it is told to: one transaction
        again = store.claimed(claim, "match_comments") is not None  # a retry tells no one
        row = store.add_comment(match_id, text, actor=who.actor, role=who.role.value,
                                actor_org=who.association_id or who.partner_id, claim=claim)
        if not again:
            notifications.on_comment(engine, match, who)
    hidden = lifecycle.redacted(engine, who, match, association)
    return _shown(row, who, match, hidden)


def _association_side(row: dict, match: dict) -> bool:
    return row["role"] == "association" or row["actor_org"] == match["association_id"]


def _shown(row: dict, who: Principal, match: dict, hidden: bool) -> dict:
    anonymous = hidden and _association_side(row, match)
    return {"id": row["id"], "match_id": row["match_id"], "at": row["at"],
            "author": row["role"] if anonymous else row["actor"], "role": row["role"],
            "body": row["body"], "mine": row["actor"] == who.actor}
