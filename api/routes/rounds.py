"""Match rounds: run one over regions (coordinators, admins), read its report, and review the
whole round at once. The choosing is :mod:`matcher.services.rounds`'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import EngineDep
from api.match_schemas import BulkReviewResponse
from api.network_schemas import RoundReport, RoundRequest, RoundReview
from api.routes.matches import READ_ERRORS, REVIEWERS, WRITE_ERRORS, review_results
from api.security import guard
from matcher.principals import Principal
from matcher.services import rounds

router = APIRouter(prefix="/rounds", tags=["rounds"])

RoundId = Annotated[int, Path(ge=1, le=2**53, description="the round id", examples=[1])]


@router.post("", response_model=RoundReport, responses=WRITE_ERRORS, operation_id="run_round",
             summary="Propose matches for every open need of the regions at once")
def run_round(engine: EngineDep, body: RoundRequest,
              who: Annotated[Principal, guard("run_round", *REVIEWERS)]) -> RoundReport:
    """Choose under each offering's capacity, each teaching association's room and at most
    ``per_need`` open proposals per need, serving as many needs as possible before any gets a
    second proposal, then the greatest total strength (a min-cost flow). Pairs rejected
    before or already matched are never proposed. The proposals go to the review queue as
    one round."""
    return RoundReport(**rounds.run(
        engine, who, regions=body.regions, per_need=body.per_need,
        kinds=tuple(body.kinds) if body.kinds else ("partner", "peer"), dry_run=body.dry_run))


@router.get("/{round_id}", response_model=RoundReport, responses=READ_ERRORS,
            operation_id="get_round", summary="One round's report")
def get_round(engine: EngineDep, round_id: RoundId,
              who: Annotated[Principal, guard("get_round", *REVIEWERS)]) -> RoundReport:
    report = rounds.get(engine, who, round_id)
    return RoundReport(**{k: v for k, v in report.items() if k in RoundReport.model_fields})


@router.post("/{round_id}/review", response_model=BulkReviewResponse, responses=READ_ERRORS,
             operation_id="review_round", summary="Approve or reject a whole round")
def review_round(engine: EngineDep, round_id: RoundId, body: RoundReview,
                 who: Annotated[Principal, guard("review_round", *REVIEWERS)]
                 ) -> BulkReviewResponse:
    """Each match of the round, in order, on its own: one already reviewed answers 409 in its
    result and leaves the others done."""
    return BulkReviewResponse(results=review_results(
        engine, who, rounds.match_ids(engine, who, round_id), body.action, note=body.note,
        reason=getattr(body, "reason", None)))
