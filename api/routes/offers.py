"""Partners find the needs their offerings fit, and offer their help on one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.match_schemas import MatchPublic
from api.network_schemas import OfferingNeed, OfferingNeeds
from api.routes.matches import READ_ERRORS, WRITE_ERRORS
from api.schemas import Lang
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import suggestions

router = APIRouter(prefix="/offerings/{offering_id}/needs", tags=["offerings"])

FINDERS = (Role.ADMIN, Role.COORDINATOR, Role.PARTNER)
OfferingId = Annotated[str, Path(max_length=128, examples=["demo-o-001"])]
NeedId = Annotated[str, Path(max_length=128, examples=["demo-n-001"])]


@router.get("", response_model=OfferingNeeds, responses=READ_ERRORS,
            operation_id="offering_needs", summary="The open needs an offering fits")
def offering_needs(engine: EngineDep, offering_id: OfferingId,
                   who: Annotated[Principal, guard("offering_needs", *FINDERS)],
                   limit: Annotated[int, Query(ge=1, le=100)] = 10,
                   lang: Annotated[Lang, Query(description="language of summaries and "
                                                           "reasons")] = "en") -> OfferingNeeds:
    """Only needs the offering passes every hard rule for (region, country, commodity,
    eligibility, active, validity, capacity), strongest first. Its partner sees them in every
    region, a coordinator in its regions."""
    found = suggestions.needs_for_offering(engine, who, offering_id, limit, lang)
    return OfferingNeeds(offering_id=offering_id, needs=[OfferingNeed(**n) for n in found])


@router.post("/{need_id}/offer", response_model=MatchPublic, responses=WRITE_ERRORS,
             status_code=status.HTTP_201_CREATED, operation_id="offer_help",
             summary="Offer the offering's help on a need (a proposed match)")
def offer_help(engine: EngineDep, offering_id: OfferingId, need_id: NeedId,
               who: Annotated[Principal, guard("offer_help", Role.ADMIN, Role.PARTNER)],
               request: Request, idempotency_key: IdempotencyKey = None) -> MatchPublic:
    """The match is marked ``offered_by: partner`` and goes to the region's coordinators
    like any other proposal; 409 when the offering does not fit the need now or the pair is
    matched already."""
    return MatchPublic(**suggestions.offer_help(engine, who, offering_id, need_id,
                                                claim_for(request, who, idempotency_key)))
