"""Associations: list, create, read and change profiles (deletion: the data-rights routes).

Who may do what is :mod:`matcher.policy`'s (see its table); the guards below only keep roles
out that may never call an operation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api.deps import EngineDep
from api.idempotency import IdempotencyKey, claim_for
from api.profile_schemas import (
    AssociationCreate,
    AssociationPublic,
    AssociationUpdate,
    CommodityFilter,
    CountryFilter,
    LanguageFilter,
    Limit,
    Offset,
    Page,
    RegionFilter,
    Search,
    association_public,
    errors,
    sort_param,
)
from api.security import guard
from matcher import policy
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery

router = APIRouter(prefix="/associations", tags=["associations"])

AssociationId = Annotated[str, Path(max_length=128, examples=["demo-a-01"])]
Sort = sort_param(SORTABLE["associations"])
READERS = (Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION)


@router.get("", response_model=Page[AssociationPublic], responses=errors(422),
            summary="List associations (full profiles where the caller may, public otherwise)",
            operation_id="list_associations")
def list_associations(engine: EngineDep,
                      who: Annotated[Principal, guard("list_associations", *READERS)],
                      region: RegionFilter = None, country: CountryFilter = None,
                      commodity: CommodityFilter = None, language: LanguageFilter = None,
                      q: Search = None, sort: Sort = "name", limit: Limit = 50,
                      offset: Offset = 0) -> Page[AssociationPublic]:
    rows, total = profiles.list_records(engine, "associations", ProfileQuery(
        region=region, country=country, commodity=commodity, language=language, q=q, sort=sort,
        limit=limit, offset=offset))
    items = [association_public(row, policy.require_association_view(who, row, row["id"]))
             for row in rows]
    return Page[AssociationPublic](items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=AssociationPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409, 422),
             summary="Create an association (admins; coordinators in their regions)",
             operation_id="create_association")
def create_association(engine: EngineDep, body: AssociationCreate,
                       who: Annotated[Principal, guard("create_association", Role.ADMIN,
                                                       Role.COORDINATOR)],
                       request: Request, idempotency_key: IdempotencyKey = None
                       ) -> AssociationPublic:
    row = profiles.create_association(engine, who, body.model_dump(mode="json"),
                                      claim_for(request, who, idempotency_key, body))
    return association_public(row, policy.require_association_view(who, row, row["id"]))


@router.get("/{association_id}", response_model=AssociationPublic, responses=errors(404),
            summary="One association's profile", operation_id="get_association")
def get_association(engine: EngineDep, association_id: AssociationId,
                    who: Annotated[Principal, guard("get_association")]) -> AssociationPublic:
    row, view = profiles.association(engine, who, association_id)
    return association_public(row, view)


@router.patch("/{association_id}", response_model=AssociationPublic,
              responses=errors(404, 422),
              summary="Change an association's profile (itself, its region's coordinators, "
                      "admins)", operation_id="update_association")
def update_association(engine: EngineDep, association_id: AssociationId, body: AssociationUpdate,
                       who: Annotated[Principal, guard("update_association", *READERS)]
                       ) -> AssociationPublic:
    row = profiles.change_association(engine, who, association_id,
                                      body.model_dump(mode="json", exclude_unset=True))
    return association_public(row, policy.require_association_view(who, row, association_id))
