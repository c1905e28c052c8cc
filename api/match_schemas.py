"""Request and response models of the match lifecycle (``/api/v1/matches``).

Requests are closed (unknown fields → 422): a client names a need and an item, an action's
reason, outcome or note, and nothing else (never a status, an owner or a reviewer).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Kind, StrengthLabel
from matcher.exchange import RecordId
from matcher.vocabulary import (
    MATCH_SORTS,
    MAX_COMMENT,
    OUTCOMES,
    PARTNER_ANSWERS,
    PARTNER_DECLINE_REASONS,
    REJECT_REASONS,
    STATES,
)
from matcher.workflow.lifecycle import MAX_NOTE, TRANSITIONS

# The lifecycle's vocabulary, spelled once in matcher.vocabulary and matcher.workflow.lifecycle.
Status = Literal[STATES]  # type: ignore[valid-type]
StatusWord = Literal[(*STATES, "requested")]  # type: ignore[valid-type]
Action = Literal[tuple(TRANSITIONS)]  # type: ignore[valid-type]
RejectReason = Literal[REJECT_REASONS]  # type: ignore[valid-type]
PartnerAnswer = Literal[PARTNER_ANSWERS]  # type: ignore[valid-type]
PartnerDeclineReason = Literal[PARTNER_DECLINE_REASONS]  # type: ignore[valid-type]
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
Sort = Literal[MATCH_SORTS]  # type: ignore[valid-type]
MatchId = Annotated[int, Field(ge=1, le=2**53)]
# At least one character that is not white space (Python's str.isspace, spelt out so that
# JSON Schema's regular expressions read it the same way).
NOT_BLANK = r"[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
Note = Annotated[str | None, Field(max_length=MAX_NOTE, description="free text for the trail")]
Version = Annotated[int | None, Field(
    ge=1, le=2**53, description="the version the client last read; a different current version "
    "is a 409 (optimistic concurrency). Leave out to act on whatever is current.")]


def _closed(**example) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


def _example(**example) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


# ---------------------------------------------------------------------- requests
class MatchCreate(BaseModel):
    """Save a current suggestion as a proposed match."""

    model_config = _closed(need_id="demo-n-001", kind="partner", item_id="demo-o-001")

    need_id: RecordId
    kind: Kind
    item_id: RecordId = Field(description="the offering (partner) or practice (peer) id")


class TransitionRequest(BaseModel):
    """Approve, accept, decline, activate or close: an optional note and expected version."""

    model_config = _closed(note="checked with the partner", version=1)

    note: Note = None
    version: Version = None


class CloseRequest(TransitionRequest):
    """Close a match: a note saying why (its outcome, or why it ends early)."""

    model_config = _closed(note="training delivered; nothing more planned", version=4)

    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE, pattern=NOT_BLANK,
                               description="why it is closed, for the trail")]


class RejectRequest(TransitionRequest):
    model_config = _closed(reason="not_eligible", note="they need a formal licence", version=1)

    reason: RejectReason


class OutcomeRequest(TransitionRequest):
    model_config = _closed(outcome="training", note="12 members trained in May", version=3)

    outcome: Outcome


class BulkApprove(BaseModel):
    """Approve many proposed matches; each is its own atomic change."""

    model_config = _closed(action="approve", ids=[12, 13], note=None)

    action: Literal["approve"]
    ids: list[MatchId] = Field(min_length=1, max_length=100)
    note: Note = None


class BulkReject(BaseModel):
    """Reject many proposed matches, with one reason; each is its own atomic change."""

    model_config = _closed(action="reject", ids=[12, 13], reason="duplicate", note=None)

    action: Literal["reject"]
    ids: list[MatchId] = Field(min_length=1, max_length=100)
    reason: RejectReason
    note: Note = None


BulkReviewRequest = Annotated[BulkApprove | BulkReject, Field(discriminator="action")]


# ---------------------------------------------------------------------- responses
_MATCH_EXAMPLE = {
    "id": 12, "kind": "partner", "status": "proposed", "need_id": "demo-n-001",
    "need_text": "Our pits flood every rainy season and two walls collapsed last year.",
    "need_text_redacted": False, "category": "ohs", "association_id": "demo-a-01",
    "association_name": "Tarkwa Small Miners Association", "region": "africa_anglophone",
    "item_id": "demo-o-001", "item_title": "Pit safety, shoring and ventilation training",
    "owner_id": "demo-p-01", "owner_name": "Safe Shafts Initiative", "score": 3.6611,
    "strength": 0.81, "strength_label": "strong",
    "reasons": ["close in meaning", "topic: Occupational health and safety"],
    "reason": None, "outcome": None, "note": None, "created_at": "2025-05-02T09:14:03+00:00",
    "updated_at": "2025-05-02T09:14:03+00:00", "introduced_at": None, "version": 1,
    "actions": ["approve", "reject"],
}


class MatchPublic(BaseModel):
    """A match as the caller may read it."""

    model_config = _example(**_MATCH_EXAMPLE)

    id: int
    kind: Kind
    status: Status
    need_id: str
    need_text: str = Field(description="the need's text, or a neutral summary when it is "
                           "sensitive and the caller may not read it (yet)")
    need_text_redacted: bool = Field(description="true when need_text is the neutral summary")
    category: str | None = Field(description="the need's category (given or inferred)")
    association_id: str | None = Field(
        description="the association that posted the need; null while the need is "
                    "confidential to the caller (until the association accepts the "
                    "introduction)")
    association_name: str | None
    region: str | None = Field(description="the association's regional network")
    item_id: str = Field(description="offering id (partner) or practice id (peer)")
    item_title: str
    owner_id: str = Field(description="the partner (partner) or other association (peer)")
    owner_name: str | None
    score: float | None = Field(description="the engine's score when it was proposed")
    strength: float | None = Field(
        default=None, ge=0, le=1,
        description="how likely the pair was clearly relevant when it was proposed (0..1, "
                    "calibrated; null for matches proposed before strengths were kept)")
    strength_label: StrengthLabel | None = Field(
        default=None, description="the strength in a word: strong, good, possible or weak")
    reasons: list[str] = Field(description="why it was suggested (empty when redacted)")
    reason: RejectReason | None = Field(description="why it was rejected")
    outcome: Outcome | None
    note: str | None = Field(description="the note of the last change")
    created_at: str
    updated_at: str
    introduced_at: str | None = Field(description="when the association accepted")
    version: int = Field(description="increases with every change")
    actions: list[Action] = Field(description="what the caller can do with it now")
    round_id: int | None = Field(None, description="the match round that proposed it")
    offered_by: Literal["partner"] | None = Field(
        None, description="partner: the partner offered its help on the need")
    proposed_by: str | None = Field(
        None, description="the role that proposed it: association (its own request), "
                          "coordinator, admin or partner")
    status_word: StatusWord = Field(
        "proposed", description="the status as pages name it: requested for a proposed match "
                                "the association asked for itself, else the status")
    partner_answer: PartnerAnswer | None = Field(
        None, description="the partner's answer (accepted or declined), beside the status")
    partner_reason: PartnerDeclineReason | None = Field(
        None, description="why the partner declined")
    partner_answered_at: str | None = Field(None, description="when the partner answered")


class MatchPage(BaseModel):
    """One page of the matches the caller may see."""

    model_config = _example(items=[_MATCH_EXAMPLE], total=1, limit=50, offset=0)

    items: list[MatchPublic]
    total: int = Field(description="how many match the filters in all")
    limit: int
    offset: int


class AuditEntry(BaseModel):
    """One change of a match."""

    model_config = _example(id=31, match_id=12, action="reject", from_status="proposed",
                            to_status="rejected", actor="token:4 (coordinator africa_anglophone)",
                            role="coordinator", at="2025-05-03T10:00:00+00:00",
                            reason="not_eligible", outcome=None, note="no formal licence")

    id: int
    match_id: int
    action: str
    from_status: Status | None = Field(description="null for the proposal itself")
    to_status: Status
    actor: str = Field(description="who (a token and its scope; a pseudonym once deleted)")
    role: str
    at: str
    reason: RejectReason | PartnerDeclineReason | None = Field(
        description="why it was rejected, or why the partner declined")
    outcome: Outcome | None
    note: str | None


class AuditTrail(BaseModel):
    model_config = _example(match_id=12, status="rejected", entries=[
        AuditEntry.model_config["json_schema_extra"]["examples"][0]])

    match_id: int
    status: Status = Field(description="the match's current status (the last entry's to_status)")
    entries: list[AuditEntry]


class Contact(BaseModel):
    name: str | None = None
    phone: str | None = None
    whatsapp: str | None = None
    email: str | None = None


class IntroductionMessage(BaseModel):
    """A ready-to-send message to one side, in its language (plain text)."""

    model_config = _example(
        recipient="partner", organisation_id="demo-p-01",
        organisation_name="Safe Shafts Initiative", language="en",
        subject="Delve Exchange introduction: Safe Shafts Initiative – Tarkwa Small Miners",
        text="Hello Ama,\n\nThe Delve Exchange would like to introduce you to ...",
        contact={"name": "Ama", "phone": None, "whatsapp": "+233 20 000 0000", "email": None},
        whatsapp_link="https://wa.me/233200000000?text=Hello%20Ama%2C...",
        chat_link="https://wa.me/233240000000?text=Hello%20Tarkwa%20Small%20Miners...")

    recipient: Literal["association", "partner", "peer"]
    organisation_id: str
    organisation_name: str
    language: Literal["en", "fr", "es", "pt"]
    subject: str
    text: str
    contact: Contact | None = Field(description="the recipient's contact, if on file")
    whatsapp_link: str | None = Field(
        description="https://wa.me/<number>?text=<message>: send this message to the recipient "
        "on WhatsApp (null without a number)")
    chat_link: str | None = Field(
        None, description="https://wa.me/<number>?text=<greeting>: the recipient opens a chat "
        "with the other side, a short greeting ready (null without their number)")


class Introduction(BaseModel):
    model_config = _example(match_id=12, messages=[
        IntroductionMessage.model_config["json_schema_extra"]["examples"][0]])

    match_id: int
    messages: list[IntroductionMessage] = Field(
        description="one per side: the association first, then the partner or peer")


class IntroducedMatch(MatchPublic):
    """The match after the association accepted, with the introduction messages."""

    model_config = _example(**{**_MATCH_EXAMPLE, "status": "introduced", "version": 3,
                               "introduced_at": "2025-05-04T08:00:00+00:00",
                               "actions": ["activate", "close"]},
                            introduction=Introduction.model_config[
                                "json_schema_extra"]["examples"][0])

    introduction: Introduction


class BulkResult(BaseModel):
    model_config = _example(id=12, ok=True, status_code=200, detail=None, match=_MATCH_EXAMPLE)

    id: int
    ok: bool
    status_code: int = Field(description="what the single-match request would have answered")
    detail: str | None = Field(description="why it failed")
    match: MatchPublic | None = Field(description="the match after the change, when ok")


class BulkReviewResponse(BaseModel):
    model_config = _example(results=[
        {"id": 12, "ok": True, "status_code": 200, "detail": None, "match": _MATCH_EXAMPLE},
        {"id": 13, "ok": False, "status_code": 409, "detail":
         "cannot reject a match that is approved (only from proposed)", "match": None}])

    results: list[BulkResult]


class AnswerRequest(BaseModel):
    """The partner's answer to a match on its offering."""

    model_config = _closed(answer="declined", reason="no_capacity",
                           note="our next course starts in March")

    answer: PartnerAnswer
    reason: PartnerDeclineReason | None = Field(
        None, description="why it declines (required with declined, refused with accepted)")
    note: Note = None
    version: Version = None


class CommentCreate(BaseModel):
    """A comment on a match."""

    model_config = _closed(body="We can start in March; would 12 members fit?")

    body: str = Field(min_length=1, max_length=MAX_COMMENT, pattern=NOT_BLANK,
                      description="the comment; every party who may see the match reads it")


class Comment(BaseModel):
    """One comment of a match's thread, as the caller may read it."""

    model_config = _example(id=3, match_id=12, at="2025-05-03T10:00:00+00:00",
                            author="user:ana (partner demo-p-01)", role="partner",
                            body="We can start in March; would 12 members fit?", mine=True)

    id: int
    match_id: int
    at: str
    author: str = Field(description="who wrote it; on a match still confidential to the "
                        "caller, the association's side reads as its role only")
    role: str
    body: str
    mine: bool = Field(description="whether the caller wrote it")


class CommentThread(BaseModel):
    """A match's comments, oldest first."""

    match_id: int
    items: list[Comment]
