"""Request and response models of the whole-network routes: match rounds, the needs an
offering fits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.match_schemas import Note, RejectReason
from api.profile_schemas import Region
from api.schemas import Kind
from matcher.exchange import whole_number
from matcher.workflow.rounds import WHY

Why = Literal[WHY]  # type: ignore[valid-type]


def _closed(**example) -> ConfigDict:
    return ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [example]})


class RoundRequest(BaseModel):
    """A match round over the caller's regions (coordinators), or any (admins)."""

    model_config = _closed(regions=["africa_anglophone"], per_need=2, dry_run=True)

    regions: list[Region] | None = Field(None, max_length=10, description="default: all the "
                                         "caller's regions")
    per_need: whole_number(1, 20) | None = Field(  # 11.0 is 11 (JSON has one number type)
        None, description="most open proposals per need (default: the settings')")
    kinds: list[Kind] | None = Field(None, min_length=1, max_length=2,
                                     description="default: partner and peer")
    dry_run: bool = Field(False, description="choose, report, write nothing")


class Unserved(BaseModel):
    need_id: str
    why: Why


class Baseline(BaseModel):
    needs_served: int
    total: float


class RoundReport(BaseModel):
    """What a round chose. Each proposal names its need and its offering (``offering_id``) or
    practice (``practice_id``), and the ``strength`` the round maximised (``score`` without a
    calibration). ``greedy`` is what per-need top-k would have done with the same candidates;
    ``worst_decile`` the mean best value of the worst-served tenth of the needs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "round_id": 3, "regions": ["africa_anglophone"], "per_need": 2, "needs": 16,
        "needs_served": 15, "proposals": [{"need_id": "demo-n-001",
                                           "offering_id": "demo-o-001", "strength": 0.83}],
        "unserved": [{"need_id": "demo-n-007", "why": "only_weak_candidates"}],
        "capacity_used": 18, "partner_load_gini": 0.41, "total": 19.2,
        "greedy": {"needs_served": 14, "total": 18.7},
        "worst_decile": {"round": 0.0, "greedy": 0.0}, "seconds": 5.3,
        "dry_run": False}]})

    round_id: int = Field(description="the round's report is kept under this id (a dry run's "
                                      "too, with no proposals written)")
    dry_run: bool = Field(False, description="chose and reported, proposed nothing")
    regions: list[str]
    per_need: int
    needs: int = Field(description="needs with room for a proposal")
    needs_served: int
    proposals: list[dict[str, str | float]]
    unserved: list[Unserved]
    capacity_used: int = Field(description="offering slots the proposals would take")
    partner_load_gini: float = Field(description="0: proposals spread evenly over partners")
    total: float
    greedy: Baseline
    worst_decile: dict[str, float]
    seconds: float | None = None
    created_at: str | None = None


class RoundApprove(BaseModel):
    """Approve every match of the round still proposed; each is its own atomic change."""

    model_config = _closed(action="approve", note=None)

    action: Literal["approve"]
    note: Note = None


class RoundReject(BaseModel):
    """Reject every match of the round still proposed, with one reason."""

    model_config = _closed(action="reject", reason="not_relevant", note=None)

    action: Literal["reject"]
    reason: RejectReason
    note: Note = None


RoundReview = Annotated[RoundApprove | RoundReject, Field(discriminator="action")]


# ---------------------------------------------------------------------- needs an offering fits
class OfferingNeed(BaseModel):
    """An open need the offering fits. A sensitive need the caller may not read comes as its
    neutral summary (``text_hidden``), with no association, country or reasons."""

    need_id: str
    category: str | None
    text: str
    text_hidden: bool
    association_id: str | None
    association_name: str | None
    country: str | None
    region: str | None
    score: float
    strength: float | None = Field(description="probability that the pair is clearly relevant")
    strength_label: str | None
    reasons: list[str]


class OfferingNeeds(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "offering_id": "demo-o-001", "needs": [{
            "need_id": "demo-n-001", "category": "ohs",
            "text": "Our pits flood every rainy season and the walls are getting weak.",
            "text_hidden": False, "association_id": "demo-a-01",
            "association_name": "Nkwanta Small-Scale Miners Association", "country": "GH",
            "region": "africa_anglophone", "score": 1.8, "strength": 0.83,
            "strength_label": "strong", "reasons": ["same topic: occupational safety"]}]}]})

    offering_id: str
    needs: list[OfferingNeed]


# ---------------------------------------------------------------------- mutual exchanges
class Pair(BaseModel):
    need_id: str
    practice_id: str


class MutualExchange(BaseModel):
    """Another association and what each side could teach the other: ``score`` is the
    harmonic mean of the two directions' strongest pairs."""

    association_id: str
    score: float
    they_help_you: list[Pair] = Field(description="your needs, their practices")
    you_help_them: list[Pair] = Field(description="their needs, your practices")


class Exchanges(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "association_id": "demo-a-01", "exchanges": [{
            "association_id": "demo-a-03", "score": 0.61,
            "they_help_you": [{"need_id": "demo-n-001", "practice_id": "demo-pr-004"}],
            "you_help_them": [{"need_id": "demo-n-007", "practice_id": "demo-pr-002"}]}]}]})

    association_id: str
    exchanges: list[MutualExchange]
