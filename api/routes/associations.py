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
    association_record,
    errors,
    new_id,
    sort_param,
    to_exchange,
)
from api.security import guard
from matcher import policy
from matcher.errors import Forbidden
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.store.profiles import SORTABLE, ProfileQuery

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
    rows, total = engine.store.list_records("associations", ProfileQuery(
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
    record = body.model_dump(mode="json")
    record["id"] = record["id"] or new_id("a")
    association = to_exchange(engine.ref, association=record).associations[0]
    if not policy.can_create_association(who, association.region):
        raise Forbidden("coordinators create associations in their own regions only")
    row = engine.create_record("associations", association,
                               claim=claim_for(request, who, idempotency_key, body))
    return association_public(row, policy.require_association_view(who, row, row["id"]))


@router.get("/{association_id}", response_model=AssociationPublic, responses=errors(404),
            summary="One association's profile", operation_id="get_association")
def get_association(engine: EngineDep, association_id: AssociationId,
                    who: Annotated[Principal, guard("get_association")]) -> AssociationPublic:
    row = engine.store.get("associations", association_id)
    return association_public(row, policy.require_association_view(who, row, association_id))


@router.patch("/{association_id}", response_model=AssociationPublic,
              responses=errors(404, 422),
              summary="Change an association's profile (itself, its region's coordinators, "
                      "admins)", operation_id="update_association")
def update_association(engine: EngineDep, association_id: AssociationId, body: AssociationUpdate,
                       who: Annotated[Principal, guard("update_association", *READERS)]
                       ) -> AssociationPublic:
    row = change_association(engine, who, association_id, body)
    return association_public(row, policy.require_association_view(who, row, association_id))


def change_association(engine: Engine, who: Principal, association_id: str,
                       body: AssociationUpdate) -> dict:
    """Apply ``body`` to an association's profile (checked by the import's rules) and return
    the stored row; a new country brings its region. NotFound / Forbidden by
    :mod:`matcher.policy`, InvalidInput naming the field."""
    row = policy.require_manage_association(
        who, engine.store.get("associations", association_id), association_id)
    changes = body.model_dump(mode="json", exclude_unset=True)
    if "country" in changes:  # the region is the country's network, never stale
        changes["region"] = engine.ref.region_of(changes["country"])
    if not policy.can_move_association(who, row["region"], changes.get("region", row["region"])):
        raise Forbidden("only admins and coordinators of both regions move an association to "
                        "another region")
    if changes:
        record = {**association_record(row), **changes}
        row = engine.store.update_record(
            "associations", to_exchange(engine.ref, association=record).associations[0])
    return row
