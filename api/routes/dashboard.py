"""``GET /api/v1/dashboard/unserved``: the needs no partner serves well yet, by topic and
region, for coordinators (their regions) and admins (every region)."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep
from api.profile_schemas import Region
from api.schemas import UnservedGroup, UnservedNeed, UnservedNeedsResponse
from api.security import guard
from matcher.errors import Forbidden, InvalidInput
from matcher.principals import Principal, Role
from matcher.services import dashboard

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("/unserved", response_model=UnservedNeedsResponse, operation_id="unserved_needs",
            summary="The needs no partner serves well yet, by topic and region")
def unserved_needs(
        engine: EngineDep,
        who: Annotated[Principal, guard("unserved_needs", Role.ADMIN, Role.COORDINATOR)],
        region: Annotated[Region | None, Query(description=(
            "one of the caller's regions; all of them when left out"))] = None,
) -> UnservedNeedsResponse:
    """Open needs whose partner suggestions, when last worked out, had none at least
    ``good``. A confidential need shows its neutral summary only."""
    try:
        regions, groups = dashboard.unserved(engine, who, region)
    except InvalidInput:
        raise Forbidden("this region is not one of the caller's") from None
    return UnservedNeedsResponse(regions=regions, groups=[UnservedGroup(
        category=g.category, region=g.region, needs=[UnservedNeed(
            need_id=n["id"], association_id=n["association_id"],
            association_name=n["association_name"], text=n["text"], redacted=n["redacted"],
            best_strength=n["best_strength"], since=n["since"]) for n in g.needs])
        for g in groups])
