"""Needs: list, create (under their association), read, change, delete.

Who may do what is :mod:`matcher.policy`'s. A need's text may be sensitive: it is shown only to
those :func:`matcher.policy.can_read_need_text` allows (others get the neutral summary), is never
put in an error message, and is never echoed back by a request that fails validation
(no 422 carries the values sent: :mod:`api.errors`).
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
    NeedCreate,
    NeedPublic,
    NeedUpdate,
    Offset,
    Page,
    RegionFilter,
    Search,
    errors,
    sort_param,
)
from api.schemas import Lang
from api.security import guard
from matcher import policy
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery
from matcher.workflow.sensitive import neutral_summary

router = APIRouter(tags=["needs"])

NeedId = Annotated[str, Path(max_length=128, examples=["demo-n-001"])]
AssociationId = Annotated[str, Path(max_length=128, examples=["demo-a-01"])]
LangQuery = Annotated[Lang, Query(description="language of a neutral summary")]
Sort = sort_param(SORTABLE["needs"])
WRITERS = (Role.ADMIN, Role.COORDINATOR, Role.ASSOCIATION)


def need_public(engine: Engine, who: Principal, need: dict, association: dict,
                lang: str = "en") -> NeedPublic:
    """The need as ``who`` may read it: a sensitive need's text only for those allowed."""
    sensitive = engine.is_sensitive(need["id"])
    text, hidden = need["text"], False
    if not policy.can_read_need_text(who, association, sensitive):
        category = need["category"] or engine.need_category(need["id"])[0]
        text, hidden = neutral_summary(category, association, engine.ref, lang), True
    return NeedPublic(id=need["id"], association_id=need["association_id"], text=text,
                      text_hidden=hidden, category=need["category"], sensitive=sensitive)


@router.get("/needs", response_model=Page[NeedPublic], responses=errors(422),
            summary="List the needs the caller may read", operation_id="list_needs")
def list_needs(engine: EngineDep, who: Annotated[Principal, guard("list_needs", *WRITERS)],
               association_id: Annotated[str | None, Query(
                   max_length=128, description="one association's needs",
                   examples=["demo-a-01"])] = None,
               region: RegionFilter = None, country: CountryFilter = None,
               category: CategoryFilter = None, commodity: CommodityFilter = None,
               language: LanguageFilter = None, q: Search = None, sort: Sort = "id",
               limit: Limit = 50, offset: Offset = 0, lang: LangQuery = "en") -> Page[NeedPublic]:
    # The scope holds only needs whose text the caller may read: q never matches hidden text.
    rows, total = profiles.list_records(engine, "needs", ProfileQuery(
        association_id=association_id, region=region, country=country, category=category,
        commodity=commodity, language=language, q=q, scope=policy.need_scope(who), sort=sort,
        limit=limit, offset=offset))
    associations: dict[str, dict] = {}
    items = []
    for row in rows:
        aid = row["association_id"]
        association = associations.get(aid) or profiles.association_of(engine, aid)
        associations[aid] = association
        policy.require_need(who, row, association, row["id"])
        items.append(need_public(engine, who, row, association, lang))
    return Page[NeedPublic](items=items, total=total, limit=limit, offset=offset)


@router.post("/associations/{association_id}/needs", response_model=NeedPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409, 422),
             summary="Add a need to an association", operation_id="create_need")
def create_need(engine: EngineDep, association_id: AssociationId, body: NeedCreate,
                who: Annotated[Principal, guard("create_need", *WRITERS)], request: Request,
                idempotency_key: IdempotencyKey = None) -> NeedPublic:
    row = profiles.add_need(engine, who, association_id, body.model_dump(mode="json"),
                            claim_for(request, who, idempotency_key, body))
    return need_public(engine, who, row, profiles.association_of(engine, association_id))


@router.get("/needs/{need_id}", response_model=NeedPublic, responses=errors(404, 422),
            summary="One need", operation_id="get_need")
def get_need(engine: EngineDep, need_id: NeedId,
             who: Annotated[Principal, guard("get_need")], lang: LangQuery = "en") -> NeedPublic:
    need, association = profiles.need(engine, who, need_id)
    return need_public(engine, who, need, association, lang)


@router.patch("/needs/{need_id}", response_model=NeedPublic, responses=errors(404, 422),
              summary="Change a need", operation_id="update_need")
def update_need(engine: EngineDep, need_id: NeedId, body: NeedUpdate,
                who: Annotated[Principal, guard("update_need", *WRITERS)]) -> NeedPublic:
    need, association = profiles.change_need(engine, who, need_id,
                                             body.model_dump(mode="json", exclude_unset=True))
    return need_public(engine, who, need, association)


@router.delete("/needs/{need_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=errors(404, 409),
               summary="Delete a need (refused while matches refer to it)",
               operation_id="delete_need")
def delete_need(engine: EngineDep, need_id: NeedId,
                who: Annotated[Principal, guard("delete_need", *WRITERS)]) -> Response:
    profiles.remove_need(engine, who, need_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
