"""Suggestions for one need, and across all of an association's needs."""

from __future__ import annotations

import math
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
from matcher.errors import InvalidInput

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
    """``["lexical:0", "semantic:1.5"]`` -> ``{"lexical": 0.0, "semantic": 1.5}``.

    Raises :class:`InvalidInput` (422) for a malformed item, an unknown scorer or a repeat.
    """
    if not items:
        return {}
    known = engine.scorers()
    weights: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition(":")
        name = name.strip()
        try:
            value = float(raw) if sep and name else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidInput(f"expected name:number, got {item!r}", field="weight")
        if name not in known:
            raise InvalidInput(f"unknown scorer {name!r} (known: {', '.join(sorted(known))})",
                               field="weight")
        if name in weights:
            raise InvalidInput(f"scorer {name!r} given twice", field="weight")
        weights[name] = value
    return weights


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
