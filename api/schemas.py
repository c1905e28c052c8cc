"""Public response models. Field names are a public contract: change them only with a version.

Built from :mod:`matcher.ranking.engine` results by the ``from_*`` helpers at the bottom, so routes
stay thin. Every model carries an example for the OpenAPI docs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from matcher.ranking.engine import Suggestion, SuggestionList
from matcher.ranking.scoring import HEALTH_STATES
from matcher.vocabulary import FUSION_SOURCES, KINDS

Kind = Literal[KINDS]  # type: ignore[valid-type]
Lang = Literal["en", "fr", "es", "pt"]

_CONTRIBUTIONS = Field(
    description="each scorer's weighted contribution to the score, by scorer name, largest first")
_REASONS = Field(description="short human-readable reasons, most important first")


StrengthLabel = Literal["strong", "good", "possible", "weak"]
_STRENGTH = Field(ge=0, le=1, description="the estimated probability that the pair is clearly "
                  "relevant, from features of the pair alone (null when no calibration covers "
                  "this kind)")
_STRENGTH_LABEL = Field(description="strong (>= 0.7), good (>= 0.4), possible (>= 0.15) or weak")
_SUMMARY = Field(default="", description="what is suggested in a sentence or so (the "
                 "offering's description, the practice after its title), shortened")
_WEAK = Field(description="true when no suggestion is at least good: nothing fits well yet")


def _example(**example) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


_PARTNER_EXAMPLE = {
    "offering_id": "demo-o-001", "partner_id": "demo-p-01",
    "title": "Pit safety, shoring and ventilation training",
    "partner_name": "Safe Shafts Initiative", "score": 3.6611, "strength": 0.82,
    "strength_label": "strong",
    "contributions": {"semantic": 2.1392, "lexical": 0.6719, "category": 0.5, "language": 0.3},
    "summary": "Hands-on training for pit teams on timber shoring, ventilation and safe "
               "entry.",
    "reasons": ["close in meaning", "shared words: pit, flood, timber",
                "topic: Occupational health and safety", "delivered in English"],
    "rules_passed": ["region", "country", "commodity", "active", "capacity"],
    "need_id": "demo-n-001",
}
_PEER_EXAMPLE = {
    "practice_id": "demo-pr-009", "association_id": "demo-a-07",
    "title": "We shored our pits with timber frames after a collapse",
    "association_name": "Coopérative des Creuseurs Artisanaux du Lualaba", "score": 1.6377,
    "strength": 0.46, "strength_label": "good",
    "contributions": {"semantic": 1.6377, "category": 0.5, "geography": 0.0},
    "summary": "Each frame is checked by the pit leader every morning.",
    "reasons": ["close in meaning", "topic: Occupational health and safety"],
    "need_id": "demo-n-001",
}
_NEED_FIELDS = {
    "need_id": "demo-n-001", "association_id": "demo-a-01", "category": "ohs",
    "category_confidence": 1.0, "category_inferred": False, "language": "en", "weak": False,
}


class PartnerSuggestion(BaseModel):
    """One partner offering suggested for a need."""

    model_config = _example(**_PARTNER_EXAMPLE)

    offering_id: str
    partner_id: str
    title: str
    partner_name: str
    summary: str = _SUMMARY
    score: float = Field(description="fused score; higher is better, comparable within a list")
    strength: float | None = _STRENGTH
    strength_label: StrengthLabel | None = _STRENGTH_LABEL
    contributions: dict[str, float] = _CONTRIBUTIONS
    reasons: list[str] = _REASONS
    rules_passed: list[str] = Field(description="the eligibility rules this offering passed")
    need_id: str = Field(description="the need this suggestion answers")


class PeerSuggestion(BaseModel):
    """One practice of another association suggested for a need (peer learning)."""

    model_config = _example(**_PEER_EXAMPLE)

    practice_id: str
    association_id: str
    title: str
    association_name: str
    summary: str = _SUMMARY
    score: float = Field(description="fused score; higher is better, comparable within a list")
    strength: float | None = _STRENGTH
    strength_label: StrengthLabel | None = _STRENGTH_LABEL
    contributions: dict[str, float] = _CONTRIBUTIONS
    reasons: list[str] = _REASONS
    need_id: str = Field(description="the need this suggestion answers")


class _NeedSuggestions(BaseModel):
    need_id: str
    association_id: str = Field(description="the association that posted the need")
    category: str | None = Field(description="the need's category, given or inferred")
    category_confidence: float | None = Field(description="1.0 when given; else the model's")
    category_inferred: bool
    language: str | None = Field(description="the detected language of the need's text")
    weak: bool = _WEAK
    failed_scorers: dict[str, str] = Field(
        description="scorers left out of this ranking, with why (empty when all ran)")


class PartnerSuggestionsResponse(_NeedSuggestions):
    """Partner offerings for one need, best first."""

    model_config = _example(**_NEED_FIELDS, kind="partner", suggestions=[_PARTNER_EXAMPLE],
                            failed_scorers={})

    kind: Literal["partner"]
    suggestions: list[PartnerSuggestion]


class PeerSuggestionsResponse(_NeedSuggestions):
    """Peer practices for one need, best first; never the need's own association's."""

    model_config = _example(**_NEED_FIELDS, kind="peer", suggestions=[_PEER_EXAMPLE],
                            failed_scorers={})

    kind: Literal["peer"]
    suggestions: list[PeerSuggestion]


SuggestionsResponse = Annotated[PartnerSuggestionsResponse | PeerSuggestionsResponse,
                                Field(discriminator="kind")]


class _AssociationSuggestions(BaseModel):
    association_id: str
    weak: bool = _WEAK
    failed_scorers: dict[str, str] = Field(
        description="scorers left out for at least one need, with why")


class AssociationPartnerSuggestionsResponse(_AssociationSuggestions):
    """Partner offerings across an association's needs; each offering once, for its best need."""

    model_config = _example(association_id="demo-a-01", kind="partner",
                            suggestions=[_PARTNER_EXAMPLE], weak=False, failed_scorers={})

    kind: Literal["partner"]
    suggestions: list[PartnerSuggestion]


class AssociationPeerSuggestionsResponse(_AssociationSuggestions):
    """Peer practices across an association's needs; each practice once, for its best need."""

    model_config = _example(association_id="demo-a-01", kind="peer",
                            suggestions=[_PEER_EXAMPLE], weak=False, failed_scorers={})

    kind: Literal["peer"]
    suggestions: list[PeerSuggestion]


AssociationSuggestionsResponse = Annotated[
    AssociationPartnerSuggestionsResponse | AssociationPeerSuggestionsResponse,
    Field(discriminator="kind")]


class ScorerHealthInfo(BaseModel):
    """How the scorer's calls went in this server process since it started."""

    model_config = _example(status="failing", calls=12, failures=1,
                            last_problem="exceeded the 250 ms budget",
                            last_problem_at="2025-05-03T10:00:00+00:00")

    status: Literal["idle", "ok", "failing", "busy"] = Field(description="; ".join(
        f"{state}: {meaning}" for state, meaning in HEALTH_STATES.items()))
    calls: int = Field(description="calls since the server started")
    failures: int = Field(description="of those, calls that failed")
    last_problem: str | None = Field(
        description="what went wrong the last time it failed (an error's type, never its text)")
    last_problem_at: str | None = Field(description="when it last failed (UTC)")


class ScorerInfo(BaseModel):
    """One registered scorer, its fusion weight per kind it serves, and its health."""

    model_config = _example(name="semantic", description="cosine similarity of the texts",
                            source="builtin", kinds=["partner", "peer"],
                            weights={"partner": 1.0, "peer": 1.0},
                            health={"status": "ok", "calls": 12, "failures": 0,
                                    "last_problem": None, "last_problem_at": None})

    name: str
    description: str
    source: str = Field(description="'builtin', or the distribution that provides the plugin")
    kinds: list[Kind]
    weights: dict[str, float] = Field(
        description="the configured fusion weight per kind; 0 means the scorer is not used")
    health: ScorerHealthInfo


class FusionInfo(BaseModel):
    """Which fusion a kind uses: the hand weights, or weights learned from decisions."""

    model_config = _example(source="learned", description="learned from 120 decisions on "
                            "2026-03-01", decisions=120, trained_at="2026-03-01T10:00:00+00:00")

    source: Literal[FUSION_SOURCES]  # type: ignore[valid-type]
    description: str = Field(description="'hand weights', or 'learned from N decisions on "
                                         "DATE' (`matcher train`)")
    decisions: int | None = Field(None, description="the decisions the learned model saw")
    trained_at: str | None = Field(None, description="when it was trained (UTC, ISO 8601)")


class PluginsResponse(BaseModel):
    scorers: list[ScorerInfo]
    fusion: dict[Kind, FusionInfo] = Field(
        description="per kind, where the weights above come from")


class EmbeddingHealth(BaseModel):
    missing: int = Field(description="texts (per embedder) without a vector: their records "
                                     "are left out of suggestions until embedded")
    in_progress: bool = Field(description="whether the missing texts are being embedded")


class Health(BaseModel):
    model_config = _example(status="ok", version="0.1.0",
                            records={"partners": 20, "offerings": 51, "associations": 23,
                                     "needs": 61, "practices": 34, "vectors": 202},
                            embedding={"missing": 0, "in_progress": False})

    status: Literal["ok", "starting", "degraded"] = Field(
        description="ok: everything embedded, ready; starting: building the corpus at "
                    "start, or embedding the missing texts; "
                    "degraded: texts missing and not being embedded")
    version: str
    records: dict[str, int] = Field(description="rows per table in the store")
    embedding: EmbeddingHealth | None = Field(
        description="the texts still to embed; null while the server is starting and has "
                    "not counted them yet (the corpus it loads tells it, without reading "
                    "every text)")


class ErrorMessage(BaseModel):
    """Every engine error (404, 422, 400) comes back in this shape."""

    model_config = _example(detail="no need with id 'demo-n-999'")

    detail: str


class ValidationIssue(BaseModel):
    """One problem: where, which rule, and a message; never the value that was sent."""

    loc: list[str | int] = Field(description="where, e.g. ['query', 'limit']")
    msg: str
    type: str = Field(description="the rule, e.g. 'string_too_long' or 'finite_number'")
    ctx: dict[str, Any] | None = Field(None, description="the rule's limits, e.g. max_length")


class ValidationErrorMessage(BaseModel):
    """FastAPI's shape for a request that fails validation (a bad ``kind`` or ``limit``), less
    the ``input`` of each issue: what was sent is never echoed back."""

    detail: list[ValidationIssue]


# ---------------------------------------------------------------------- from engine results
def partner_suggestion(s: Suggestion) -> PartnerSuggestion:
    return PartnerSuggestion(
        offering_id=s.item_id, partner_id=s.owner_id, title=s.title, partner_name=s.owner_name,
        summary=s.summary, score=s.score, strength=s.strength, strength_label=s.strength_label,
        contributions=s.contributions, reasons=s.reasons, rules_passed=s.rules_passed,
        need_id=s.need_id)


def peer_suggestion(s: Suggestion) -> PeerSuggestion:
    return PeerSuggestion(
        practice_id=s.item_id, association_id=s.owner_id, title=s.title,
        association_name=s.owner_name, summary=s.summary, score=s.score, strength=s.strength,
        strength_label=s.strength_label, contributions=s.contributions, reasons=s.reasons,
        need_id=s.need_id)


def from_need_result(
        result: SuggestionList) -> PartnerSuggestionsResponse | PeerSuggestionsResponse:
    common = dict(
        need_id=result.need_id, association_id=result.association_id,
        category=result.category, category_confidence=result.category_confidence,
        category_inferred=result.category_inferred, language=result.language,
        weak=result.weak, failed_scorers=result.failed_scorers)
    if result.kind == "partner":
        return PartnerSuggestionsResponse(
            kind="partner", suggestions=[partner_suggestion(s) for s in result.suggestions],
            **common)
    return PeerSuggestionsResponse(
        kind="peer", suggestions=[peer_suggestion(s) for s in result.suggestions], **common)


def from_association_result(
        result: SuggestionList
) -> AssociationPartnerSuggestionsResponse | AssociationPeerSuggestionsResponse:
    common = dict(association_id=result.association_id, weak=result.weak,
                  failed_scorers=result.failed_scorers)
    if result.kind == "partner":
        return AssociationPartnerSuggestionsResponse(
            kind="partner", suggestions=[partner_suggestion(s) for s in result.suggestions],
            **common)
    return AssociationPeerSuggestionsResponse(
        kind="peer", suggestions=[peer_suggestion(s) for s in result.suggestions], **common)


# ---------------------------------------------------------------------- unserved needs
_UNSERVED_EXAMPLE = {
    "regions": ["africa_anglophone"],
    "groups": [{"category": "finance", "region": "africa_anglophone", "needs": [
        {"need_id": "demo-n-004", "association_id": "demo-a-02",
         "association_name": "Tarkwa Small Miners Association",
         "text": "We need credit to buy a water pump.", "redacted": False,
         "best_strength": 0.09, "since": "2026-12-03T10:50:31+00:00"}]}],
}


class UnservedNeed(BaseModel):
    """An open need whose partner suggestions had none at least good when last worked out."""

    need_id: str
    association_id: str | None = Field(description="null for a confidential need")
    association_name: str | None = Field(description="null for a confidential need")
    text: str = Field(description="the need's text, or its neutral summary when confidential")
    redacted: bool = Field(description="true when text is the neutral summary")
    best_strength: float | None = Field(ge=0, le=1, description="the strongest suggestion "
                                        "then (null when there was none at all)")
    since: str = Field(description="when it was first found unserved")


class UnservedGroup(BaseModel):
    category: str = Field(description="the needs' topic (given, or inferred)")
    region: str
    needs: list[UnservedNeed]


class UnservedNeedsResponse(BaseModel):
    """The needs no partner serves well yet, by topic and region: the partners to recruit."""

    model_config = _example(**_UNSERVED_EXAMPLE)

    regions: list[str] = Field(description="the regions covered (the caller's, or the one "
                               "asked for)")
    groups: list[UnservedGroup] = Field(description="largest group first")
