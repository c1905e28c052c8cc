"""Offerings: list and read (everyone: a marketplace); create, change and delete (the partner
itself, admins). Rules: :mod:`matcher.policy`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.profile_schemas import (
    CategoryFilter,
    CommodityFilter,
    CountryFilter,
    LanguageFilter,
    Limit,
    OfferingCreate,
    OfferingPublic,
    OfferingUpdate,
    Offset,
    Page,
    RegionFilter,
    Search,
    errors,
    offering_public,
    sort_param,
)
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery

router = APIRouter(tags=["offerings"])

OfferingId = Annotated[str, Path(max_length=128, examples=["demo-o-001"])]
PartnerId = Annotated[str, Path(max_length=128, examples=["demo-p-01"])]
Sort = sort_param(SORTABLE["offerings"])
OWNERS = (Role.ADMIN, Role.PARTNER)


@router.get("/offerings", response_model=Page[OfferingPublic], responses=errors(422),
            summary="List offerings (region, country, commodity: those open to it)",
            operation_id="list_offerings")
def list_offerings(engine: EngineDep, who: Annotated[Principal, guard("list_offerings")],
                   partner_id: Annotated[str | None, Query(
                       max_length=128, description="one partner's offerings",
                       examples=["demo-p-01"])] = None,
                   region: RegionFilter = None, country: CountryFilter = None,
                   category: CategoryFilter = None, commodity: CommodityFilter = None,
                   language: LanguageFilter = None,
                   active: Annotated[bool | None, Query(description="active or not")] = None,
                   q: Search = None, sort: Sort = "id", limit: Limit = 50,
                   offset: Offset = 0) -> Page[OfferingPublic]:
    rows, total = profiles.list_records(engine, "offerings", ProfileQuery(
        partner_id=partner_id, region=region, country=country, category=category,
        commodity=commodity, language=language, active=active, q=q, sort=sort, limit=limit,
        offset=offset))
    return Page[OfferingPublic](items=[offering_public(r) for r in rows], total=total,
                                limit=limit, offset=offset)


@router.post("/partners/{partner_id}/offerings", response_model=OfferingPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409, 422),
             summary="Add an offering to a partner (the partner itself, admins)",
             operation_id="create_offering")
def create_offering(engine: EngineDep, partner_id: PartnerId, body: OfferingCreate,
                    who: Annotated[Principal, guard("create_offering", *OWNERS)],
                    request: Request, idempotency_key: IdempotencyKey = None
                    ) -> OfferingPublic:
    return offering_public(profiles.add_offering(
        engine, who, partner_id, body.model_dump(mode="json"),
        claim_for(request, who, idempotency_key, body)))


@router.get("/offerings/{offering_id}", response_model=OfferingPublic, responses=errors(404),
            summary="One offering", operation_id="get_offering")
def get_offering(engine: EngineDep, offering_id: OfferingId,
                 who: Annotated[Principal, guard("get_offering")]) -> OfferingPublic:
    return offering_public(profiles.offering(engine, who, offering_id))


@router.patch("/offerings/{offering_id}", response_model=OfferingPublic,
              responses=errors(404, 422),
              summary="Change an offering (the partner itself, admins)",
              operation_id="update_offering")
def update_offering(engine: EngineDep, offering_id: OfferingId, body: OfferingUpdate,
                    who: Annotated[Principal, guard("update_offering", *OWNERS)]
                    ) -> OfferingPublic:
    return offering_public(profiles.change_offering(
        engine, who, offering_id, body.model_dump(mode="json", exclude_unset=True)))


@router.delete("/offerings/{offering_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=errors(404, 409),
               summary="Delete an offering (refused while matches refer to it)",
               operation_id="delete_offering")
def delete_offering(engine: EngineDep, offering_id: OfferingId,
                    who: Annotated[Principal, guard("delete_offering", *OWNERS)]) -> Response:
    profiles.remove_offering(engine, who, offering_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
