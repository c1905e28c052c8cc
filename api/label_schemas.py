"""Request and response of an association's "not interested" on a suggestion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Kind
from matcher.exchange import RecordId


class NotInterestedRequest(BaseModel):
    """The suggestion the need's association does not want."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"kind": "partner", "item_id": "demo-o-001"}]})

    kind: Kind
    item_id: RecordId = Field(description="the offering (partner) or practice (peer) id")


class NotInterested(BaseModel):
    """A suggestion marked not interested: never suggested for the need again, and a label
    the fusion learns from (``matcher train``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "need_id": "demo-n-001", "kind": "partner", "item_id": "demo-o-001",
        "at": "2026-03-01T10:00:00+00:00"}]})

    need_id: str
    kind: Kind
    item_id: str
    at: str = Field(description="when it was first marked (UTC, ISO 8601)")
