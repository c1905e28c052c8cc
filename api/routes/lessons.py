"""Lessons: what each exchange taught (:mod:`matcher.services.lessons`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.lesson_schemas import (
    Language,
    LessonPage,
    LessonPublic,
    LessonWrite,
    PromotedPractice,
    PromoteRequest,
)
from api.profile_schemas import Category
from api.routes.matches import READ_ERRORS, WRITE_ERRORS, MatchIdPath
from api.schemas import ErrorMessage, Lang
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import lessons

router = APIRouter(tags=["lessons"])

LessonIdPath = Annotated[int, Path(ge=1, le=2**53, description="the lesson id", examples=[1])]
_409 = {409: {"model": ErrorMessage, "description": "The match's outcome is not recorded "
                                                    "yet, or an Idempotency-Key reused"}}
_200 = {200: {"model": LessonPublic, "description": "That side's lesson, updated"}}


@router.post("/matches/{match_id:int}/lesson", response_model=LessonPublic,
             status_code=status.HTTP_201_CREATED, responses={**WRITE_ERRORS, **_409, **_200},
             operation_id="write_lesson", summary="Tell what a match taught (one side)")
def write_lesson(engine: EngineDep, who: Annotated[Principal, guard("write_lesson")],
                 match_id: MatchIdPath, body: LessonWrite, request: Request,
                 response: Response, idempotency_key: IdempotencyKey = None,
                 lang: Lang = "en") -> LessonPublic:
    """By the match's association, its counterpart (the offering's partner, or the peer
    association), the region's coordinators or an admin, once the outcome is recorded (409
    before). 201 when the side's lesson is new; posting again from the same side updates it
    (200). A coordinator may complete or edit any side (``side``). Only the association
    publishes."""
    lesson, created = lessons.write(
        engine, who, match_id, body.text, body.worked, body.figures, language=body.language,
        published=body.published, side=body.side,
        claim=claim_for(request, who, idempotency_key, body), lang=lang)
    if not created:
        response.status_code = status.HTTP_200_OK
    return LessonPublic(**lesson)


@router.get("/lessons", response_model=LessonPage, responses=READ_ERRORS,
            operation_id="list_lessons", summary="The lessons the caller may read")
def list_lessons(
        engine: EngineDep, who: Annotated[Principal, guard("list_lessons")],
        q: Annotated[str | None, Query(max_length=200, description="words of the text")] = None,
        category: Annotated[Category | None, Query(examples=["mercury"])] = None,
        region: Annotated[str | None, Query(max_length=64,
                                            examples=["africa_anglophone"])] = None,
        commodity: Annotated[str | None, Query(max_length=64, examples=["gold"])] = None,
        language: Annotated[Language | None, Query(examples=["fr"])] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        lang: Lang = "en") -> LessonPage:
    """Published lessons for every signed-in role; a lesson of a confidential need only
    once its association published it (before: the association, its region's coordinators,
    admins), and never naming the association to others."""
    items, total = lessons.list_lessons(engine, who, lessons.Filters(
        q=q, category=category, region=region, commodity=commodity, language=language,
        limit=limit, offset=offset), lang)
    return LessonPage(items=[LessonPublic(**i) for i in items], total=total, limit=limit,
                      offset=offset)


@router.post("/lessons/{lesson_id}/practice", response_model=PromotedPractice,
             status_code=status.HTTP_201_CREATED, responses={**WRITE_ERRORS, **_409},
             operation_id="promote_lesson",
             summary="Make a lesson a practice of the association that learned it")
def promote_lesson(engine: EngineDep,
                   who: Annotated[Principal, guard("promote_lesson", Role.ADMIN,
                                                   Role.COORDINATOR, Role.ASSOCIATION)],
                   lesson_id: LessonIdPath, request: Request,
                   body: PromoteRequest | None = None,
                   idempotency_key: IdempotencyKey = None) -> PromotedPractice:
    """By that association, its region's coordinators or an admin: a new practice (the
    lesson's text unless another is given), with its provenance kept. A lesson already
    promoted is a 409."""
    body = body or PromoteRequest()
    return PromotedPractice(**lessons.promote(
        engine, who, lesson_id, text=body.text, category=body.category,
        claim=claim_for(request, who, idempotency_key, body)))
