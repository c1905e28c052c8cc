"""Suggestions for one need, and across all of an association's needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import StringConstraints

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.label_schemas import NotInterested, NotInterestedRequest
from api.network_schemas import Exchanges
from api.schemas import (
    AssociationSuggestionsResponse,
    ErrorMessage,
    Kind,
    Lang,
    SuggestionsResponse,
    ValidationErrorMessage,
    from_association_result,
    from_need_result,
)
from api.security import guard
from api.turns import in_turn
from matcher.principals import Principal, Role
from matcher.ranking.fusion import WEIGHT_NUMBER
from matcher.services import suggestions

router = APIRouter(tags=["suggestions"])

SCORER_NAME = "[a-z][a-z0-9_]*"

KindQuery = Annotated[Kind, Query(description="partner offerings, or peer practices")]
LimitQuery = Annotated[int, Query(ge=1, le=100, description="how many suggestions at most")]
# The scorer names in the pattern are the registered scorers' (api.openapi fills them in).
WeightQuery = Annotated[list[Annotated[str, StringConstraints(
    pattern=f"^{SCORER_NAME}[:=]{WEIGHT_NUMBER}$")]] | None, Query(
    max_length=50,
    description="override one fusion weight for this request, as `name:value` (repeatable; "
                "a scorer named twice takes its last value), e.g. `lexical:0` leaves the "
                "lexical scorer out", examples=["lexical:0"])]
LangQuery = Annotated[Lang, Query(description="language of the reasons' wording")]

ERRORS = {
    404: {"model": ErrorMessage, "description": "No such record"},
    422: {"model": ValidationErrorMessage | ErrorMessage,
          "description": "A query parameter is out of range or malformed"},
    503: {"model": ErrorMessage, "description": "The need's text is not embedded yet (after an "
          "interrupted import; see /health): retry after the Retry-After seconds"},
}


@router.get("/needs/{need_id}/suggestions", response_model=SuggestionsResponse,
            responses=ERRORS, summary="Ranked, explained suggestions for one need",
            operation_id="need_suggestions")
async def need_suggestions(request: Request, engine: EngineDep,
                           who: Annotated[Principal, guard("need_suggestions", Role.ADMIN,
                                                           Role.COORDINATOR, Role.ASSOCIATION)],
                           need_id: Annotated[str, Path(examples=["demo-n-001"])],
                           kind: KindQuery = "partner", limit: LimitQuery = 10,
                           weight: WeightQuery = None, lang: LangQuery = "en"):
    # who may ask is checked before the weights are read (a malformed one is a 422)
    return from_need_result(await in_turn(request, suggestions.for_need, engine, who, need_id,
                                          kind, limit, weight, lang))


@router.get("/associations/{association_id}/suggestions",
            response_model=AssociationSuggestionsResponse, responses=ERRORS,
            summary="Suggestions across all of an association's needs, each item once",
            operation_id="association_suggestions")
async def association_suggestions(request: Request, engine: EngineDep,
                                  who: Annotated[Principal, guard(
                                      "association_suggestions", Role.ADMIN,
                                      Role.COORDINATOR, Role.ASSOCIATION)],
                                  association_id: Annotated[str, Path(examples=["demo-a-01"])],
                                  kind: KindQuery = "partner", limit: LimitQuery = 10,
                                  weight: WeightQuery = None, lang: LangQuery = "en"):
    return from_association_result(await in_turn(
        request, suggestions.for_association, engine, who, association_id, kind, limit,
        weight, lang))


@router.get("/associations/{association_id}/exchanges", response_model=Exchanges,
            responses=ERRORS, summary="Associations this one could exchange with, both ways",
            operation_id="association_exchanges")
def association_exchanges(engine: EngineDep,
                          who: Annotated[Principal, guard(
                              "association_exchanges", Role.ADMIN, Role.COORDINATOR,
                              Role.ASSOCIATION)],
                          association_id: Annotated[str, Path(examples=["demo-a-01"])],
                          limit: LimitQuery = 10) -> Exchanges:
    """Mutual peer exchanges: each partner association has a practice that fits one of this
    association's needs, and this association a practice that fits one of theirs."""
    return Exchanges(**suggestions.exchanges(engine, who, association_id, limit))


@router.post("/needs/{need_id}/suggestions/not-interested", response_model=NotInterested,
             status_code=status.HTTP_201_CREATED,
             responses={**ERRORS, 200: {"model": NotInterested,
                                        "description": "It was marked before: the first mark"},
                        403: {"model": ErrorMessage,
                              "description": "Only the need's association or an admin"},
                        409: {"model": ErrorMessage,
                              "description": "The Idempotency-Key was used for another "
                                             "request"}},
             summary="The need's association is not interested in a suggestion",
             operation_id="mark_not_interested")
def mark_not_interested(engine: EngineDep,
                        who: Annotated[Principal, guard("mark_not_interested", Role.ADMIN,
                                                        Role.ASSOCIATION)],
                        need_id: Annotated[str, Path(examples=["demo-n-001"])],
                        body: NotInterestedRequest, response: Response, request: Request,
                        idempotency_key: IdempotencyKey = None) -> NotInterested:
    """By the association that posted the need (or an admin): the offering or practice is
    not suggested for this need again, and the mark is a label the fusion learns from
    (`matcher train`). Marking it again changes nothing (200)."""
    mark, created = suggestions.not_interested(engine, who, need_id, body.kind, body.item_id,
                                               claim_for(request, who, idempotency_key, body))
    if not created:
        response.status_code = status.HTTP_200_OK
    return NotInterested(**{k: mark[k] for k in ("need_id", "kind", "item_id", "at")})
