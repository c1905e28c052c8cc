"""Bulk import and export of the exchange format (``FORMAT.md``), with the CLI's rules.

Import is all or nothing: the first bad record is a 422 naming the record and the field, and
nothing is written. Who may import or export what: :mod:`matcher.services.rights`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import EngineDep
from api.schemas import ErrorMessage, ValidationErrorMessage
from api.security import guard
from matcher.exchange import Exchange
from matcher.principals import Principal, Role
from matcher.services import rights

router = APIRouter(tags=["exchange"])

EXAMPLE_DOCUMENT = {
    "partners": [{
        "id": "p-safe-shafts", "name": "Safe Shafts Initiative", "type": "ngo",
        "description": "Trains artisanal miners in pit safety.", "languages": ["en", "fr"],
        "offerings": [{
            "id": "o-pit-safety", "title": "Pit safety and shoring training",
            "description": "Three-day on-site course: timbering, ventilation, flood safety.",
            "category": "ohs", "regions": ["africa_anglophone"], "countries": ["GH"],
            "languages": ["en"], "commodities": ["gold"],
            "eligibility": {"women_led_only": False, "min_members": 0,
                            "requires_formal_license": False},
            "capacity": 5}]}],
    "associations": [{
        "id": "a-nkwanta", "name": "Nkwanta Small-Scale Miners Association", "country": "GH",
        "region": "africa_anglophone", "languages": ["en"], "commodities": ["gold"],
        "members": 240, "women_led": False, "formal_license": True,
        "description": "Licensed small-scale gold concession.",
        "needs": [{"id": "n-nkwanta-1", "text": "Our pits flood every rainy season; we need "
                   "someone to show us proper timbering.", "category": "ohs"}],
        "practices": [{"id": "pr-nkwanta-1", "text": "We run a welfare fund from 2% of each "
                       "gold sale.", "category": "finance"}]}],
}


class ImportResult(BaseModel):
    """What one import changed, per table: records inserted, updated and unchanged."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "changed": True,
        "inserted": {"partners": 1, "offerings": 1, "associations": 1, "needs": 1,
                     "practices": 1},
        "updated": {"partners": 0, "offerings": 0, "associations": 0, "needs": 0,
                    "practices": 0},
        "unchanged": {"partners": 0, "offerings": 0, "associations": 0, "needs": 0,
                      "practices": 0}}]})

    changed: bool = Field(description="whether anything was written")
    inserted: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]


def _error(description: str) -> dict:
    return {"model": ErrorMessage, "description": description}


ERRORS = {
    401: _error("No valid bearer token"),
    403: _error("The caller's role may not do this, or (coordinators) a record outside "
                "their regions"),
}


async def request_bytes(request: Request) -> bytes:
    """The raw body, read as it streams (capped by :mod:`api.limits`)."""
    return await request.body()


@router.post(
    "/import", response_model=ImportResult, operation_id="import_exchange",
    summary="Import (upsert by id) an exchange document: all or nothing",
    responses={**ERRORS,
               413: _error("The document is larger than the import cap"),
               422: {"model": ErrorMessage | ValidationErrorMessage,
                     "description": "A record breaks the format; the message names the record "
                                    "and the field, and nothing was written (a non-finite "
                                    "number: the list of issues, its loc the field)"}},
    openapi_extra={"requestBody": {
        "required": True,
        "description": "An exchange-format document (FORMAT.md v1, with the extensions)",
        "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Exchange"},
            "example": EXAMPLE_DOCUMENT}}}})
def import_exchange(engine: EngineDep,
                    who: Annotated[Principal, guard("import_exchange", Role.ADMIN,
                                                    Role.COORDINATOR)],
                    body: Annotated[bytes, Depends(request_bytes)]) -> ImportResult:
    """Admins import anything. Coordinators import associations (with needs and practices)
    of their own regions only, never partners. New texts are embedded after the import's
    commit, before the answer (a server stopped meanwhile embeds them when it starts again)."""
    report = rights.import_bytes(engine, who, body)
    return ImportResult(changed=report.changed, **asdict(report))


@router.get(
    "/export", operation_id="export_exchange",
    summary="Export the exchange document the caller may see",
    responses={**ERRORS, 200: {"model": Exchange, "description": "An exchange-format document",
                               "content": {"application/json": {"example": EXAMPLE_DOCUMENT}}}})
def export_exchange(engine: EngineDep,
                    who: Annotated[Principal, guard("export_exchange", Role.ADMIN,
                                                    Role.COORDINATOR)]) -> JSONResponse:
    """Admins: everything. Coordinators: the associations of their regions with their needs
    and practices, and no partners (so that they may import their export again). The format
    is the CLI's ``matcher export``: extension fields only where they are not the default."""
    return JSONResponse(rights.export_for(who, engine))
