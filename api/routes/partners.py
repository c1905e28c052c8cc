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
    new_id,
    partner_public,
    partner_record,
    sort_param,
    to_exchange,
)
from api.security import guard
from matcher import policy
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.store.profiles import SORTABLE, ProfileQuery

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
    rows, total = engine.store.list_records("partners", ProfileQuery(
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
    record = body.model_dump(mode="json")
    record["id"] = record["id"] or new_id("p")
    partner = to_exchange(engine.ref, partner=record).partners[0]
    return _public(who, engine.create_record(
        "partners", partner, claim=claim_for(request, who, idempotency_key, body)))


@router.get("/{partner_id}", response_model=PartnerPublic, responses=errors(404),
            summary="One partner", operation_id="get_partner")
def get_partner(engine: EngineDep, partner_id: PartnerId,
                who: Annotated[Principal, guard("get_partner")]) -> PartnerPublic:
    return _public(who, policy.require_partner(who, engine.store.get("partners", partner_id),
                                               partner_id))


@router.patch("/{partner_id}", response_model=PartnerPublic, responses=errors(404, 422),
              summary="Change a partner's profile (the partner itself, admins)",
              operation_id="update_partner")
def update_partner(engine: EngineDep, partner_id: PartnerId, body: PartnerUpdate,
                   who: Annotated[Principal, guard("update_partner", Role.ADMIN, Role.PARTNER)]
                   ) -> PartnerPublic:
    return _public(who, change_partner(engine, who, partner_id, body))


def change_partner(engine: Engine, who: Principal, partner_id: str, body: PartnerUpdate) -> dict:
    """Change the fields ``body`` sets of a partner's profile (the partner itself, admins);
    the stored row. Raises NotFound, Forbidden, or InvalidInput naming the field."""
    row = policy.require_partner(who, engine.store.get("partners", partner_id), partner_id,
                                 write=True)
    changes = body.model_dump(mode="json", exclude_unset=True)
    if changes:
        partner = to_exchange(engine.ref, partner={**partner_record(row), **changes})
        row = engine.store.update_record("partners", partner.partners[0])
    return row
