"""Practices (what an association can teach its peers): list, create, read, change, delete.

Every role but partners reads them (peer learning); the association itself, its region's
coordinators and admins change them (:mod:`matcher.policy`).
"""

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
    Offset,
    Page,
    PracticeCreate,
    PracticePublic,
    PracticeUpdate,
    RegionFilter,
    Search,
    errors,
    sort_param,
)
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery

router = APIRouter(tags=["practices"])

PracticeId = Annotated[str, Path(max_length=128, examples=["demo-pr-001"])]
AssociationId = Annotated[str, Path(max_length=128, examples=["demo-a-01"])]
Sort = sort_param(SORTABLE["practices"])
PEERS = (Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION)


def practice_public(row: dict) -> PracticePublic:
    return PracticePublic(id=row["id"], association_id=row["association_id"], text=row["text"],
                          category=row["category"])


@router.get("/practices", response_model=Page[PracticePublic], responses=errors(422),
            summary="List practices (peer learning)", operation_id="list_practices")
def list_practices(engine: EngineDep, who: Annotated[Principal, guard("list_practices", *PEERS)],
                   association_id: Annotated[str | None, Query(
                       max_length=128, description="one association's practices",
                       examples=["demo-a-01"])] = None,
                   region: RegionFilter = None, country: CountryFilter = None,
                   category: CategoryFilter = None, commodity: CommodityFilter = None,
                   language: LanguageFilter = None, q: Search = None, sort: Sort = "id",
                   limit: Limit = 50, offset: Offset = 0) -> Page[PracticePublic]:
    rows, total = profiles.list_records(engine, "practices", ProfileQuery(
        association_id=association_id, region=region, country=country, category=category,
        commodity=commodity, language=language, q=q, sort=sort, limit=limit, offset=offset))
    return Page[PracticePublic](items=[practice_public(r) for r in rows], total=total,
                                limit=limit, offset=offset)


@router.post("/associations/{association_id}/practices", response_model=PracticePublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409, 422),
             summary="Add a practice to an association", operation_id="create_practice")
def create_practice(engine: EngineDep, association_id: AssociationId, body: PracticeCreate,
                    who: Annotated[Principal, guard("create_practice", *PEERS)],
                    request: Request, idempotency_key: IdempotencyKey = None
                    ) -> PracticePublic:
    return practice_public(profiles.add_practice(
        engine, who, association_id, body.model_dump(mode="json"),
        claim_for(request, who, idempotency_key, body)))


@router.get("/practices/{practice_id}", response_model=PracticePublic, responses=errors(404),
            summary="One practice", operation_id="get_practice")
def get_practice(engine: EngineDep, practice_id: PracticeId,
                 who: Annotated[Principal, guard("get_practice")]) -> PracticePublic:
    return practice_public(profiles.practice(engine, who, practice_id)[0])


@router.patch("/practices/{practice_id}", response_model=PracticePublic,
              responses=errors(404, 422), summary="Change a practice",
              operation_id="update_practice")
def update_practice(engine: EngineDep, practice_id: PracticeId, body: PracticeUpdate,
                    who: Annotated[Principal, guard("update_practice", *PEERS)]
                    ) -> PracticePublic:
    return practice_public(profiles.change_practice(
        engine, who, practice_id, body.model_dump(mode="json", exclude_unset=True)))


@router.delete("/practices/{practice_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=errors(404, 409),
               summary="Delete a practice (refused while matches refer to it)",
               operation_id="delete_practice")
def delete_practice(engine: EngineDep, practice_id: PracticeId,
                    who: Annotated[Principal, guard("delete_practice", *PEERS)]) -> Response:
    profiles.remove_practice(engine, who, practice_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
