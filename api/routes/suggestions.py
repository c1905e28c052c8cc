"""Suggestions for one need, and across all of an association's needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import EngineDep
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
from matcher.engine import Engine
from matcher.fusion import parse_weight_overrides

router = APIRouter(tags=["suggestions"])

KindQuery = Annotated[Kind, Query(description="partner offerings, or peer practices")]
LimitQuery = Annotated[int, Query(ge=1, le=100, description="how many suggestions at most")]
WeightQuery = Annotated[list[str] | None, Query(
    description="override one fusion weight for this request, as `name:value` (repeatable), "
                "e.g. `lexical:0` leaves the lexical scorer out",
    examples=["lexical:0"])]
LangQuery = Annotated[Lang, Query(description="language of the reasons' wording")]

ERRORS = {
    404: {"model": ErrorMessage, "description": "No such record"},
    422: {"model": ValidationErrorMessage | ErrorMessage,
          "description": "A query parameter is out of range or malformed"},
}


def parse_weights(engine: Engine, items: list[str] | None) -> dict[str, float]:
    """Per-request weight overrides; a malformed one is a 422 (see parse_weight_overrides)."""
    return parse_weight_overrides(items, engine.scorers()) if items else {}


@router.get("/needs/{need_id}/suggestions", response_model=SuggestionsResponse,
            responses=ERRORS, summary="Ranked, explained suggestions for one need")
def need_suggestions(engine: EngineDep,
                     need_id: Annotated[str, Path(examples=["demo-n-001"])],
                     kind: KindQuery = "partner", limit: LimitQuery = 10,
                     weight: WeightQuery = None, lang: LangQuery = "en"):
    weights = parse_weights(engine, weight)
    return from_need_result(engine.suggest(need_id, kind, limit, weights, lang))


@router.get("/associations/{association_id}/suggestions",
            response_model=AssociationSuggestionsResponse, responses=ERRORS,
            summary="Suggestions across all of an association's needs, each item once")
def association_suggestions(engine: EngineDep,
                            association_id: Annotated[str, Path(examples=["demo-a-01"])],
                            kind: KindQuery = "partner", limit: LimitQuery = 10,
                            weight: WeightQuery = None, lang: LangQuery = "en"):
    weights = parse_weights(engine, weight)
    return from_association_result(
        engine.suggest_for_association(association_id, kind, limit, weights, lang))
