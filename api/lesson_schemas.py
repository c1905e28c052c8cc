"""Request and response models of lessons (``/api/v1/matches/{id}/lesson``,
``/api/v1/lessons``). Requests are closed (unknown fields → 422) and strict (``"worked": 1``
is not true)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.match_schemas import NOT_BLANK
from api.profile_schemas import Category
from matcher.errors import InvalidInput
from matcher.language import KNOWN_LANGUAGES
from matcher.services.lessons import (
    FIGURE_NAME,
    MAX_FIGURE,
    MAX_FIGURES,
    MAX_LESSON,
    SIDES,
    check_figures,
)

Side = Literal[SIDES]  # type: ignore[valid-type]
Language = Literal[KNOWN_LANGUAGES]  # type: ignore[valid-type]
# What JSON Schema says of the figures; checked by matcher.services.lessons.check_figures,
# whose messages never repeat a name the client sent (pydantic's would, in "loc").
FIGURES_SCHEMA = {
    "patternProperties": {FIGURE_NAME.pattern: {
        "type": "number", "minimum": -MAX_FIGURE, "maximum": MAX_FIGURE}},
    "additionalProperties": False}

_FIGURES = {"members_trained": 24, "mercury_saved_kg": 3.5}
_TEXT = ("We trained 24 members in retort use over two weekends; the women's group took the "
         "lead. Next time we would start before the rainy season.")


class LessonWrite(BaseModel):
    """One side's lesson of a match whose outcome is recorded."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"text": _TEXT, "worked": True, "figures": _FIGURES}]})

    text: str = Field(min_length=1, max_length=MAX_LESSON, pattern=NOT_BLANK,
                      description="what was done, what worked, what to do differently")
    worked: bool = Field(description="whether it worked")
    figures: dict[str, Any] = Field(
        default_factory=dict, max_length=MAX_FIGURES,
        description=f"at most {MAX_FIGURES} named numbers (lower-case words joined by _), "
                    "e.g. members_trained, mercury_saved_kg, loan_size",
        examples=[_FIGURES], json_schema_extra=FIGURES_SCHEMA)
    language: Language | None = Field(default=None, description="the text's language "
                                      "(ISO 639-1); detected when left out")
    published: bool | None = Field(
        default=None, description="the association only (or an admin): publish the match's "
        "lessons to the whole network, or withdraw them. A lesson of a confidential need is "
        "unpublished until then; others are published by default")
    side: Side | None = Field(default=None, description="coordinators and admins: the side "
                              "to complete or edit (default: the caller's own)")

    @field_validator("figures")
    @classmethod
    def _figures(cls, value: dict) -> dict:
        try:
            return check_figures(value)
        except InvalidInput as exc:
            raise ValueError(str(exc).removeprefix("field 'figures': ")) from None


class LessonPublic(BaseModel):
    """A lesson as the caller may read it. A lesson of a confidential need names its
    association (id, name, country) and its match only to the association, the region's
    coordinators and admins."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "match_id": 12, "side": "association", "kind": "partner",
        "item_id": "demo-o-001", "item_title": "Retort training", "association_id": "demo-a-01",
        "association_name": "Tarkwa Small Miners", "country": "GH",
        "region": "africa_anglophone", "category": "mercury", "text": _TEXT, "worked": True,
        "figures": _FIGURES, "language": "en", "published": True, "sensitive": False,
        "promoted_practice_id": None, "created_at": "2025-05-03T10:00:00+00:00",
        "updated_at": "2025-05-03T10:00:00+00:00", "mine": True}]})

    id: int
    match_id: int | None
    side: Side
    kind: str
    item_id: str | None
    item_title: str | None
    association_id: str | None
    association_name: str | None
    country: str | None
    region: str | None
    category: str | None
    text: str
    worked: bool
    figures: dict[str, int | float]
    language: str
    published: bool
    sensitive: bool
    promoted_practice_id: str | None
    created_at: str
    updated_at: str
    mine: bool


class LessonPage(BaseModel):
    """One page of the lessons the caller may read."""

    items: list[LessonPublic]
    total: int = Field(description="how many lessons match the filters in all (of those the "
                                   "caller's scope holds)")
    limit: int
    offset: int


class PromoteRequest(BaseModel):
    """Make a lesson a practice of the association that learned it."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"text": _TEXT, "category": "mercury"}]})

    text: str | None = Field(default=None, min_length=1, max_length=MAX_LESSON,
                             pattern=NOT_BLANK, description="the practice's text (default: "
                                                            "the lesson's)")
    category: Category | None = Field(default=None,
                                      description="its topic (default: the match's)")


class PracticeOut(BaseModel):
    id: str
    association_id: str
    text: str
    category: str | None


class PromotedPractice(BaseModel):
    """The practice a lesson became, and where it came from."""

    practice: PracticeOut
    lesson_id: int | None
    source_practice_id: str | None = Field(
        description="the practice it was learned from (a peer exchange), if any")
