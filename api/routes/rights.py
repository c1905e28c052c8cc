"""Organisation data rights: an association or a partner exports all its data, or deletes it
everywhere. The rules and the work are :mod:`matcher.services.rights`'s."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import EngineDep
from api.label_schemas import NotInterested
from api.lesson_schemas import LessonPublic
from api.match_schemas import AuditEntry, Comment, MatchPublic
from api.schemas import ErrorMessage, ValidationErrorMessage
from api.security import guard
from matcher.exchange import Association, Partner
from matcher.principals import Principal, Role
from matcher.services import rights

router = APIRouter(tags=["data rights"])

AssociationId = Annotated[str, Path(max_length=128, examples=["demo-a-01"])]
PartnerId = Annotated[str, Path(max_length=128, examples=["demo-p-01"])]


class TokenInfo(BaseModel):
    """A token scoped to the organisation (never the token itself)."""

    id: int
    role: str
    label: str | None
    created_at: str
    revoked_at: str | None


class LessonAuditEntry(BaseModel):
    """One change of a lesson (who, in which role, what, when; never the text)."""

    id: int
    lesson_id: int
    match_id: int
    action: Literal["write", "update", "publish", "withdraw", "promote"]
    actor: str
    role: str
    at: str


class UserInfo(BaseModel):
    """A web user of the organisation (never the password or its hash)."""

    id: int
    username: str
    role: str
    email: str | None
    language: str | None
    created_at: str
    disabled_at: str | None


class _OrganisationData(BaseModel):
    exported_at: str = Field(description="when this export was made (UTC)")
    matches: list[MatchPublic] = Field(
        description="the matches involving it that the caller may see")
    audit: list[AuditEntry] = Field(description="every change of those matches")
    comments: list[Comment] = Field(
        default_factory=list, description="the comments on those matches, oldest first "
        "per match, as the caller may read them")
    tokens: list[TokenInfo]
    users: list[UserInfo] = Field(default_factory=list,
                                  description="its web users' accounts")
    lessons: list[LessonPublic] = Field(
        default_factory=list, description="the lessons of its matches the caller may read")
    lesson_audit: list[LessonAuditEntry] = Field(
        default_factory=list, description="every write, publication and promotion of them")


class NeedAuditEntry(BaseModel):
    """One change of a need's confidentiality (raised by an inference, or cleared)."""

    id: int
    need_id: str
    action: Literal["raise_sensitivity", "clear_sensitivity"]
    actor: str
    role: str | None
    at: str
    note: str | None


class AssociationData(_OrganisationData):
    """Everything stored about one association."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "exported_at": "2025-05-03T10:00:00+00:00",
        "association": {"id": "demo-a-01", "name": "Nkwanta Small-Scale Miners Association",
                        "country": "GH", "region": "africa_anglophone", "languages": ["en"],
                        "commodities": ["gold"], "members": 240, "women_led": False,
                        "formal_license": True, "description": "Licensed gold concession.",
                        "needs": [{"id": "demo-n-001", "text": "Our pits flood every rainy "
                                   "season.", "category": "ohs"}],
                        "practices": []},
        "matches": [], "audit": [],
        "tokens": [{"id": 7, "role": "association", "label": "field office",
                    "created_at": "2025-05-01T09:00:00+00:00", "revoked_at": None}]}]})

    association: Association = Field(description="its profile, needs and practices "
                                                 "(exchange format)")
    need_audit: list[NeedAuditEntry] = Field(
        default_factory=list, description="every change of its needs' confidentiality")
    not_interested: list[NotInterested] = Field(
        default_factory=list, description="the suggestions it said it is not interested in "
        "(never suggested again for that need)")


class PartnerData(_OrganisationData):
    """Everything stored about one partner."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "exported_at": "2025-05-03T10:00:00+00:00",
        "partner": {"id": "demo-p-01", "name": "Safe Shafts Initiative", "type": "ngo",
                    "description": "Trains miners in pit safety.", "languages": ["en"],
                    "offerings": []},
        "matches": [], "audit": [], "tokens": []}]})

    partner: Partner = Field(description="its profile and offerings (exchange format)")


class DeletionResult(BaseModel):
    """What the deletion removed, revoked and pseudonymised (all in one transaction)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "demo-a-01",
        "deleted": {"matches": 2, "users": 0, "needs": 3, "practices": 2, "associations": 1},
        "vectors_deleted": 10, "tokens_revoked": 1, "audit_pseudonymised": 4}]})

    id: str
    deleted: dict[str, int] = Field(description="rows removed, per table")
    vectors_deleted: int = Field(description="embedding vectors no remaining text uses")
    tokens_revoked: int = Field(description="its tokens that were still active")
    audit_pseudonymised: int = Field(
        description=f"audit rows whose actor or note now reads {rights.PSEUDONYM!r}")


def _error(description: str) -> dict:
    return {"model": ErrorMessage, "description": description}


ERRORS = {
    401: _error("No valid bearer token"),
    403: _error("Only the organisation itself or an admin may do this"),
    404: _error("No such organisation, or not visible to the caller"),
    422: {"model": ValidationErrorMessage, "description": "A malformed id"},
}


@router.get("/associations/{association_id}/data", response_model=AssociationData,
            responses=ERRORS, operation_id="export_association_data",
            summary="Everything stored about an association (itself or an admin)")
def export_association_data(engine: EngineDep,
                            who: Annotated[Principal, guard("export_association_data",
                                                            Role.ADMIN, Role.ASSOCIATION)],
                            association_id: AssociationId):
    """Its profile with needs and practices, the matches involving it (its needs, and peer
    matches on its practices once introduced) with their audit rows and comments, its tokens
    and users, and the suggestions it said it is not interested in."""
    return rights.association_data(who, engine, association_id)


@router.delete("/associations/{association_id}", response_model=DeletionResult,
               responses=ERRORS, operation_id="delete_association",
               summary="Delete an association everywhere (itself or an admin)")
def delete_association(engine: EngineDep,
                       who: Annotated[Principal, guard("delete_association", Role.ADMIN,
                                                       Role.ASSOCIATION)],
                       association_id: AssociationId):
    """In one transaction: its profile, needs and practices, their embedding vectors (unless
    another text has the same content), every match involving it; its tokens are revoked
    and its users removed; audit rows it acted in or about its matches are pseudonymised.
    Its suggestions disappear at once."""
    return rights.delete_association(who, engine, association_id)


@router.get("/partners/{partner_id}/data", response_model=PartnerData, responses=ERRORS,
            operation_id="export_partner_data",
            summary="Everything stored about a partner (itself or an admin)")
def export_partner_data(engine: EngineDep,
                        who: Annotated[Principal, guard("export_partner_data", Role.ADMIN,
                                                        Role.PARTNER)],
                        partner_id: PartnerId):
    """Its profile with offerings, the matches on its offerings with their audit rows and
    comments (the text of a sensitive need stays a neutral summary until introduced), and its
    tokens and users."""
    return rights.partner_data(who, engine, partner_id)


@router.delete("/partners/{partner_id}", response_model=DeletionResult, responses=ERRORS,
               operation_id="delete_partner",
               summary="Delete a partner everywhere (itself or an admin)")
def delete_partner(engine: EngineDep,
                   who: Annotated[Principal, guard("delete_partner", Role.ADMIN, Role.PARTNER)],
                   partner_id: PartnerId):
    """In one transaction: its profile and offerings, their vectors, every match on its
    offerings; its tokens are revoked, its users removed, its audit rows pseudonymised."""
    return rights.delete_partner(who, engine, partner_id)
