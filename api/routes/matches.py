"""Proposed matches, their lifecycle and audit trail, the coordinator queue and introductions.

The state machine and the object-level rules live in :mod:`matcher.workflow.lifecycle`; these routes turn
HTTP into its calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, status

from api.deps import EngineDep
from api.errors import status_for
from api.idempotency import IdempotencyKey, claim_for
from api.match_schemas import (
    AnswerRequest,
    AuditEntry,
    AuditTrail,
    BulkResult,
    BulkReviewRequest,
    BulkReviewResponse,
    CloseRequest,
    Comment,
    CommentCreate,
    CommentThread,
    IntroducedMatch,
    Introduction,
    MatchCreate,
    MatchPage,
    MatchPublic,
    OutcomeRequest,
    RejectRequest,
    Sort,
    Status,
    TransitionRequest,
)
from api.schemas import ErrorMessage, Kind, Lang, ValidationErrorMessage
from api.security import guard
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services.matches import bulk_review
from matcher.workflow import answers, introductions, lifecycle

router = APIRouter(prefix="/matches", tags=["matches"])

REVIEWERS = (Role.ADMIN, Role.COORDINATOR)
PROPOSERS = (Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION)
ASSOCIATION_SIDE = (Role.ADMIN, Role.ASSOCIATION)

_401 = {401: {"model": ErrorMessage, "description": "No valid bearer token"}}
_403 = {403: {"model": ErrorMessage, "description": "The caller's role may not do this"}}
_404 = {404: {"model": ErrorMessage, "description": "No such match (or not the caller's)"}}
_409 = {409: {"model": ErrorMessage,
              "description": "Invalid transition, a concurrent change, or a full offering"}}
_422 = {422: {"model": ValidationErrorMessage | ErrorMessage,
              "description": "Malformed request, or a missing reason or outcome"}}
READ_ERRORS = {**_401, **_403, **_404, **_422}
WRITE_ERRORS = {**READ_ERRORS, **_409}

MatchIdPath = Annotated[int, Path(ge=1, le=2**53, description="the match id", examples=[1])]
LangQuery = Annotated[Lang, Query(
    description="language of a neutral summary and of the reasons")]


def _public(engine: Engine, who: Principal, match: dict, lang: str = "en") -> MatchPublic:
    return MatchPublic(**lifecycle.view(engine, who, match, lang))


def _transition(engine: Engine, who: Principal, match_id: int, action: str,
                body: TransitionRequest | None, **extra) -> MatchPublic:
    body = body or TransitionRequest()
    match = lifecycle.transition(engine, who, match_id, action, note=body.note,
                                 version=body.version, **extra)
    return _public(engine, who, match)


# ---------------------------------------------------------------------- create, read, list
@router.post("", response_model=MatchPublic, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS, operation_id="propose_match",
             summary="Save a current suggestion as a proposed match")
def propose_match(engine: EngineDep,
                  who: Annotated[Principal, guard("propose_match", *PROPOSERS)],
                  body: MatchCreate, request: Request,
                  idempotency_key: IdempotencyKey = None) -> MatchPublic:
    """By the association itself, its region's coordinators or an admin. The item must be a
    suggestion for the need now (it passes every hard rule); a pair already matched, or
    rejected once, is a 409 (but a retry with the first request's Idempotency-Key returns
    that match)."""
    match = lifecycle.propose(engine, who, body.need_id, body.kind, body.item_id,
                              claim_for(request, who, idempotency_key, body))
    return _public(engine, who, match)


@router.get("", response_model=MatchPage, responses=READ_ERRORS, operation_id="list_matches",
            summary="The matches the caller may see: the coordinator review queue")
def list_matches(
        engine: EngineDep, who: Annotated[Principal, guard("list_matches")],
        status_: Annotated[list[Status] | None, Query(
            alias="status", description="only these statuses (repeatable)")] = None,
        region: Annotated[str | None, Query(max_length=64, examples=["africa_anglophone"],
                                            description="the association's network")] = None,
        category: Annotated[str | None, Query(max_length=64, examples=["ohs"])] = None,
        kind: Annotated[Kind | None, Query()] = None,
        need_id: Annotated[str | None, Query(max_length=128)] = None,
        min_score: Annotated[float | None, Query(allow_inf_nan=False, ge=-1e9, le=1e9)] = None,
        older_than_days: Annotated[int | None, Query(
            ge=0, le=36500, description="only matches proposed at least this long ago")] = None,
        sort: Annotated[Sort, Query(description="-score: best first; created_at: oldest "
                                    "first; -created_at: newest first")] = "created_at",
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        lang: LangQuery = "en") -> MatchPage:
    """Scoped to the caller: an association sees its own matches (and peer matches on its
    practices once introduced), a partner those on its offerings, a coordinator those of its
    regions, an admin all."""
    rows, total = lifecycle.list_matches(engine, who, lifecycle.Filters(
        statuses=status_, region=region, category=category, kind=kind, need_id=need_id,
        min_score=min_score, older_than_days=older_than_days, sort=sort, limit=limit,
        offset=offset))
    return MatchPage(items=[_public(engine, who, row, lang) for row in rows], total=total,
                     limit=limit, offset=offset)


@router.post("/bulk", response_model=BulkReviewResponse, responses=READ_ERRORS,
             operation_id="bulk_review_matches",
             summary="Approve or reject many proposed matches, each on its own")
def bulk_review_matches(engine: EngineDep,
                        who: Annotated[Principal, guard("bulk_review_matches", *REVIEWERS)],
                        body: BulkReviewRequest) -> BulkReviewResponse:
    """Each id is one atomic change with its audit row; one failing leaves the others done.
    Each result carries the status code the single request would have answered."""
    return BulkReviewResponse(results=bulk_results(engine, who, body))


def bulk_results(engine: Engine, who: Principal, body: BulkReviewRequest,
                 lang: str = "en") -> list[BulkResult]:
    """The bulk review of ``body``, each result with the status code the single request
    would have answered."""
    return review_results(engine, who, body.ids, body.action, note=body.note,
                          reason=getattr(body, "reason", None), lang=lang)


def review_results(engine: Engine, who: Principal, ids: list[int], action: str, *,
                   note: str | None, reason: str | None, lang: str = "en"
                   ) -> list[BulkResult]:
    """Review each match of ``ids`` (:func:`matcher.services.matches.bulk_review`)."""
    return [BulkResult(id=r.id, ok=r.error is None,
                       status_code=200 if r.error is None else status_for(r.error),
                       detail=None if r.error is None else str(r.error),
                       match=MatchPublic(**r.match) if r.match else None)
            for r in bulk_review(engine, who, ids, action, note=note, reason=reason,
                                 lang=lang)]


@router.get("/{match_id:int}", response_model=MatchPublic, responses=READ_ERRORS,
            operation_id="get_match", summary="One match")
def get_match(engine: EngineDep, who: Annotated[Principal, guard("get_match")],
              match_id: MatchIdPath, lang: LangQuery = "en") -> MatchPublic:
    match, _ = lifecycle.visible_match(engine, who, match_id)
    return _public(engine, who, match, lang)


@router.get("/{match_id:int}/audit", response_model=AuditTrail, responses=READ_ERRORS,
            operation_id="match_audit", summary="Every change of one match, oldest first")
def match_audit(engine: EngineDep, who: Annotated[Principal, guard("match_audit")],
                match_id: MatchIdPath) -> AuditTrail:
    entries = lifecycle.audit_trail(engine, who, match_id)
    match, _ = lifecycle.visible_match(engine, who, match_id)
    return AuditTrail(match_id=match_id, status=match["status"],
                      entries=[AuditEntry(**{k: e[k] for k in AuditEntry.model_fields})
                               for e in entries])


@router.get("/{match_id:int}/introduction", response_model=Introduction,
            responses=WRITE_ERRORS, operation_id="match_introduction",
            summary="The introduction messages of an introduced match")
def match_introduction(engine: EngineDep,
                       who: Annotated[Principal, guard("match_introduction")],
                       match_id: MatchIdPath) -> Introduction:
    """Ready-to-send messages for both sides, each in its language, with contacts and
    WhatsApp links; 409 until the association accepted the introduction."""
    match, _ = lifecycle.visible_match(engine, who, match_id)
    return Introduction(**introductions.build(engine, match))


# ---------------------------------------------------------------------- the lifecycle
OptionalBody = Body(description="optional: a note and the expected version")


@router.post("/{match_id:int}/approve", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="approve_match", summary="Approve a proposed match")
def approve_match(engine: EngineDep, who: Annotated[Principal, guard("approve_match",
                                                                     *REVIEWERS)],
                  match_id: MatchIdPath,
                  body: Annotated[TransitionRequest | None, OptionalBody] = None) -> MatchPublic:
    """By a coordinator of the association's region or an admin. The match takes one slot of
    its offering: a full offering is a 409."""
    return _transition(engine, who, match_id, "approve", body)


@router.post("/{match_id:int}/reject", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="reject_match", summary="Reject a proposed match, with a reason")
def reject_match(engine: EngineDep, who: Annotated[Principal, guard("reject_match",
                                                                    *REVIEWERS)],
                 match_id: MatchIdPath, body: RejectRequest) -> MatchPublic:
    """The pair is never suggested nor proposed again."""
    return _transition(engine, who, match_id, "reject", body, reason=body.reason)


@router.post("/{match_id:int}/accept", response_model=IntroducedMatch, responses=WRITE_ERRORS,
             operation_id="accept_introduction",
             summary="The association accepts the introduction of an approved match")
def accept_introduction(engine: EngineDep,
                        who: Annotated[Principal, guard("accept_introduction",
                                                        *ASSOCIATION_SIDE)],
                        match_id: MatchIdPath,
                        body: Annotated[TransitionRequest | None, OptionalBody] = None
                        ) -> IntroducedMatch:
    """The match becomes ``introduced``; the answer carries the introduction messages for
    both sides, each in its language. A sensitive need's text is shown to the partner from
    now on."""
    public = _transition(engine, who, match_id, "accept", body)
    match, _ = lifecycle.visible_match(engine, who, match_id)
    return IntroducedMatch(**public.model_dump(),
                           introduction=Introduction(**introductions.build(engine, match)))


@router.post("/{match_id:int}/decline", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="decline_introduction",
             summary="The association declines the introduction of an approved match")
def decline_introduction(engine: EngineDep,
                         who: Annotated[Principal, guard("decline_introduction",
                                                         *ASSOCIATION_SIDE)],
                         match_id: MatchIdPath,
                         body: Annotated[TransitionRequest | None, OptionalBody] = None
                         ) -> MatchPublic:
    """The match is closed (with the note, if any) and frees its slot."""
    return _transition(engine, who, match_id, "decline", body)


@router.post("/{match_id:int}/activate", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="activate_match", summary="Mark an introduced match's follow-up active")
def activate_match(engine: EngineDep, who: Annotated[Principal, guard("activate_match",
                                                                      *REVIEWERS)],
                   match_id: MatchIdPath,
                   body: Annotated[TransitionRequest | None, OptionalBody] = None) -> MatchPublic:
    return _transition(engine, who, match_id, "activate", body)


@router.post("/{match_id:int}/outcome", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="record_match_outcome", summary="Record the outcome of an active match")
def record_match_outcome(engine: EngineDep,
                         who: Annotated[Principal, guard("record_match_outcome", *REVIEWERS)],
                         match_id: MatchIdPath, body: OutcomeRequest) -> MatchPublic:
    return _transition(engine, who, match_id, "record_outcome", body, outcome=body.outcome)


@router.post("/{match_id:int}/close", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="close_match", summary="Close a match, with a note saying why")
def close_match(engine: EngineDep, who: Annotated[Principal, guard("close_match", *REVIEWERS)],
                match_id: MatchIdPath, body: CloseRequest) -> MatchPublic:
    """After its outcome, or earlier (approved, introduced, active); frees the offering's
    slot."""
    return _transition(engine, who, match_id, "close", body)


# ---------------------------------------------------------------------- the partner's answer
@router.post("/{match_id:int}/answer", response_model=MatchPublic, responses=WRITE_ERRORS,
             operation_id="answer_match",
             summary="The partner accepts or declines a match on its offering")
def answer_match(engine: EngineDep,
                 who: Annotated[Principal, guard("answer_match", Role.ADMIN, Role.PARTNER)],
                 match_id: MatchIdPath, body: AnswerRequest) -> MatchPublic:
    """By the partner whose offering it is (or an admin), while the match is proposed,
    approved, introduced or active; a decline needs a reason. The answer sits beside the
    status (which it does not change); the partner may change its mind. The region's
    coordinators are told."""
    match = answers.answer(engine, who, match_id, body.answer, reason=body.reason,
                           note=body.note, version=body.version)
    return _public(engine, who, match)


# ---------------------------------------------------------------------- comments
@router.get("/{match_id:int}/comments", response_model=CommentThread, responses=READ_ERRORS,
            operation_id="list_match_comments", summary="A match's comments, oldest first")
def list_match_comments(engine: EngineDep,
                        who: Annotated[Principal, guard("list_match_comments")],
                        match_id: MatchIdPath) -> CommentThread:
    """For everyone who may see the match. While the match is confidential to the caller,
    the association's comments name no one."""
    return CommentThread(match_id=match_id, items=[
        Comment(**c) for c in answers.comments(engine, who, match_id)])


@router.post("/{match_id:int}/comments", response_model=Comment,
             status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS,
             operation_id="comment_match", summary="Comment on a match")
def comment_match(engine: EngineDep, who: Annotated[Principal, guard("comment_match")],
                  match_id: MatchIdPath, body: CommentCreate, request: Request,
                  idempotency_key: IdempotencyKey = None) -> Comment:
    """By everyone who may see the match; every party who may see it reads the comment."""
    return Comment(**answers.comment(engine, who, match_id, body.body,
                                     claim_for(request, who, idempotency_key, body)))
