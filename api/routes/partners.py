"""Partners: list, create (admins), read (everyone: a marketplace), change (the partner itself,
admins). Deletion: the data-rights routes. Rules: :mod:`matcher.policy`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

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
    PartnerCreate,
    PartnerPublic,
    PartnerUpdate,
    RegionFilter,
    Search,
    errors,
    partner_public,
    sort_param,
)
from api.security import guard
from matcher import policy
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.services.profiles import SORTABLE, ProfileQuery

router = APIRouter(prefix="/partners", tags=["partners"])

PartnerId = Annotated[str, Path(max_length=128, examples=["demo-p-01"])]
Sort = sort_param(SORTABLE["partners"])


def _public(who: Principal, row: dict) -> PartnerPublic:
    return partner_public(row, policy.can_see_partner_contact(who, row["id"]))


@router.get("", response_model=Page[PartnerPublic], responses=errors(422),
            summary="List partners (region, country, category, commodity: of their offerings)",
            operation_id="list_partners")
def list_partners(engine: EngineDep, who: Annotated[Principal, guard("list_partners")],
                  region: RegionFilter = None, country: CountryFilter = None,
                  category: CategoryFilter = None, commodity: CommodityFilter = None,
                  language: LanguageFilter = None, q: Search = None, sort: Sort = "name",
                  limit: Limit = 50, offset: Offset = 0) -> Page[PartnerPublic]:
    rows, total = profiles.list_records(engine, "partners", ProfileQuery(
        region=region, country=country, category=category, commodity=commodity,
        language=language, q=q, sort=sort, limit=limit, offset=offset))
    return Page[PartnerPublic](items=[_public(who, r) for r in rows], total=total, limit=limit,
                               offset=offset)


@router.post("", response_model=PartnerPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409, 422), summary="Create a partner (admins)",
             operation_id="create_partner")
def create_partner(engine: EngineDep, body: PartnerCreate,
                   who: Annotated[Principal, guard("create_partner", Role.ADMIN)],
                   request: Request, idempotency_key: IdempotencyKey = None) -> PartnerPublic:
    return _public(who, profiles.create_partner(engine, who, body.model_dump(mode="json"),
                                                claim_for(request, who, idempotency_key, body)))


@router.get("/{partner_id}", response_model=PartnerPublic, responses=errors(404),
            summary="One partner", operation_id="get_partner")
def get_partner(engine: EngineDep, partner_id: PartnerId,
                who: Annotated[Principal, guard("get_partner")]) -> PartnerPublic:
    return _public(who, profiles.partner(engine, who, partner_id))


@router.patch("/{partner_id}", response_model=PartnerPublic, responses=errors(404, 422),
              summary="Change a partner's profile (the partner itself, admins)",
              operation_id="update_partner")
def update_partner(engine: EngineDep, partner_id: PartnerId, body: PartnerUpdate,
                   who: Annotated[Principal, guard("update_partner", Role.ADMIN, Role.PARTNER)]
                   ) -> PartnerPublic:
    return _public(who, profiles.change_partner(
        engine, who, partner_id, body.model_dump(mode="json", exclude_unset=True)))
