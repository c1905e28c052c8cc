"""Request and response models of the profile routes: Create / Update / Public per resource.

Create and Update models forbid unknown fields (422), so a client can never set what it must not:
the owner of a need, practice or offering comes from the URL, the rest (roles, statuses,
reviewers) from the token. Field types and limits are the exchange format's
(:mod:`matcher.exchange`); vocabularies are the bundled reference data's (FORMAT.md v1), and
every write is checked again by the import's own rules
(:func:`matcher.services.profiles.to_exchange`).

Update models are partial: a field left out keeps its value; ``null`` clears the fields that
may be empty (contact, category, sensitive, capacity, valid_until) and is refused elsewhere.
Nested objects (contact, eligibility) are replaced whole.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from api.schemas import ErrorMessage, ValidationErrorMessage
from matcher.exchange import (
    MAX_LIST,
    MAX_NAME,
    MAX_TEXT,
    Contact,
    Count,
    IsoDate,
    LangCode,
    Offering,
    RecordId,
    Slots,
)
from matcher.reference import load_reference
from matcher.services.profiles import offering_record

_REF = load_reference()  # the vocabularies of FORMAT.md v1, as bundled in data/


def _utf8(value: str) -> str:
    """Refuse lone surrogates (valid JSON escapes, but no text): they could not be stored."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


Category = Literal[tuple(_REF.categories)]  # type: ignore[valid-type]
Region = Literal[tuple(_REF.regions)]  # type: ignore[valid-type]
Commodity = Literal[tuple(_REF.commodities)]  # type: ignore[valid-type]
PartnerType = Literal[tuple(_REF.partner_types)]  # type: ignore[valid-type]
# The countries of the regional networks (data/countries.json): an association's region is
# its country's network.
CountryCode = Annotated[Literal[tuple(sorted(_REF.countries))],  # type: ignore[valid-type]
                        Field(description="ISO 3166-1 alpha-2, a country of a regional network",
                              examples=["GH"])]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, strip_whitespace=True),
                 AfterValidator(_utf8)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_utf8)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT,
                                            strip_whitespace=True), AfterValidator(_utf8)]
Languages = Annotated[list[LangCode], Field(max_length=MAX_LIST, examples=[["en", "fr"]])]
Commodities = Annotated[list[Commodity], Field(max_length=MAX_LIST, examples=[["gold"]])]
Regions = Annotated[list[Region], Field(max_length=MAX_LIST, description="[] = any region")]
Countries = Annotated[list[CountryCode], Field(
    max_length=MAX_LIST, description="[] = any country within the regions")]
Members = Count
Capacity = Annotated[Slots, Field(description="most matches holding a slot at once")]
ValidUntil = Annotated[IsoDate, Field(description="ISO date; not suggested after it")]


def _example(**example) -> dict:
    return {"examples": [example]}


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


# An Update field that may be left out but not set to null: its default is never validated and
# never shown (the type says what a client may send).
_KEEP = Field(default=None, json_schema_extra=_no_default)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``total`` counts every record the filters select."""

    model_config = ConfigDict(extra="forbid")

    items: list[T]
    total: int = Field(ge=0, description="records selected in all, over every page")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="records skipped before this page")


# ---------------------------------------------------------------------- associations
_ASSOCIATION = {
    "name": "Nkwanta Small-Scale Miners Association", "country": "GH",
    "region": "africa_anglophone", "languages": ["en", "tw"], "commodities": ["gold"],
    "members": 240, "women_led": False, "formal_license": True,
    "description": "Licensed small-scale gold concession with three pits and a wash plant.",
}
_CONTACT = {"name": "Kofi Mensah", "whatsapp": "+233 24 000 0000"}


class AssociationCreate(_Input):
    """A new association. Its ``region`` is its country's regional network (never sent)."""

    model_config = ConfigDict(json_schema_extra=_example(
        id="a-nkwanta", **{k: v for k, v in _ASSOCIATION.items() if k != "region"},
        contact=_CONTACT))

    id: RecordId | None = Field(None, description="chosen by the data owner; generated if left "
                                                  "out")
    name: Name
    country: CountryCode
    languages: Languages = []
    commodities: Commodities = []
    members: Members = 0
    women_led: bool = False
    formal_license: bool = False
    description: Text = ""
    contact: Contact | None = None


class AssociationUpdate(_Input):
    """Changes to an association's profile. A new ``country`` moves it to that country's
    regional network, which only admins and coordinators of both regions may do."""

    model_config = ConfigDict(json_schema_extra=_example(members=260, languages=["en", "tw"]))

    name: Name = _KEEP
    country: CountryCode = _KEEP
    languages: Languages = _KEEP
    commodities: Commodities = _KEEP
    members: Members = _KEEP
    women_led: bool = _KEEP
    formal_license: bool = _KEEP
    description: Text = _KEEP
    contact: Contact | None = None


class AssociationPublic(_Output):
    """An association's profile. ``visibility`` is ``full`` for the association itself, its
    region's coordinators and admins, who also get its ``contact``; others get the ``public``
    profile (contact null)."""

    model_config = ConfigDict(json_schema_extra=_example(
        id="demo-a-01", **_ASSOCIATION, contact=None, visibility="public"))

    id: str
    name: str
    country: str
    region: str | None
    languages: list[str]
    commodities: list[str]
    members: int
    women_led: bool
    formal_license: bool
    description: str
    contact: Contact | None
    visibility: Literal["full", "public"]


def association_public(row: dict, visibility: str) -> AssociationPublic:
    fields = {k: row[k] for k in AssociationPublic.model_fields if k in row}
    fields["contact"] = row.get("contact") if visibility == "full" else None
    return AssociationPublic(**fields, visibility=visibility)


# ---------------------------------------------------------------------- needs
_NEED_TEXT = ("Our pits flood every rainy season and the walls are getting weak. We need "
              "someone to show us proper timbering.")


class NeedCreate(_Input):
    """A new need of the association in the URL. ``sensitive`` true: confidential; null:
    confidential when its category (given, or inferred with some probability) is sgbv;
    false: not, unless flagged later. Once confidential, it stays so (see the update)."""

    model_config = ConfigDict(json_schema_extra=_example(text=_NEED_TEXT, category="ohs"))

    text: LongText
    category: Category | None = None
    sensitive: bool | None = None


class NeedUpdate(_Input):
    """Changes to a need. A confidential need stays confidential whatever else changes (its
    topic, its text, a new inference); ``sensitive: false`` is the one explicit way to clear
    it (by the association, its region's coordinators or an admin), and is audited."""

    model_config = ConfigDict(json_schema_extra=_example(category="ohs", sensitive=None))

    text: LongText = _KEEP
    category: Category | None = None
    sensitive: bool | None = Field(None, description="true: make it confidential; false: "
                                                     "clear its confidentiality (audited)")


class NeedPublic(_Output):
    """A need. For a sensitive need, whoever may not read its text gets a neutral summary in
    ``text`` and ``text_hidden`` true."""

    model_config = ConfigDict(json_schema_extra=_example(
        id="demo-n-001", association_id="demo-a-01", text=_NEED_TEXT, text_hidden=False,
        category="ohs", sensitive=False))

    id: str
    association_id: str
    text: str
    text_hidden: bool
    category: str | None = Field(description="the category given (null: inferred when needed)")
    sensitive: bool = Field(description="confidential: flagged so, or (unless flagged "
                                        "otherwise) in the sgbv category, given or inferred; "
                                        "it stays so until cleared explicitly")


# ---------------------------------------------------------------------- practices
_PRACTICE_TEXT = ("We set up a welfare fund: every member puts 2% of each gold sale in it.")


class PracticeCreate(_Input):
    """A new practice (what the association in the URL can teach its peers)."""

    model_config = ConfigDict(json_schema_extra=_example(text=_PRACTICE_TEXT,
                                                         category="finance"))

    text: LongText
    category: Category | None = None


class PracticeUpdate(_Input):
    model_config = ConfigDict(json_schema_extra=_example(category="finance"))

    text: LongText = _KEEP
    category: Category | None = None


class PracticePublic(_Output):
    model_config = ConfigDict(json_schema_extra=_example(
        id="demo-pr-001", association_id="demo-a-01", text=_PRACTICE_TEXT, category="finance"))

    id: str
    association_id: str
    text: str
    category: str | None


# ---------------------------------------------------------------------- partners
_PARTNER = {"name": "Safe Shafts Initiative", "type": "ngo",
            "description": "Trains artisanal miners in pit safety.",
            "languages": ["en", "fr", "es", "pt"]}


class PartnerCreate(_Input):
    model_config = ConfigDict(json_schema_extra=_example(id="p-safe-shafts", **_PARTNER))

    id: RecordId | None = Field(None, description="chosen by the data owner; generated if left "
                                                  "out")
    name: Name
    type: PartnerType = "other"
    description: Text = ""
    languages: Languages = []
    contact: Contact | None = None


class PartnerUpdate(_Input):
    model_config = ConfigDict(json_schema_extra=_example(description="Pit safety training."))

    name: Name = _KEEP
    type: PartnerType = _KEEP
    description: Text = _KEEP
    languages: Languages = _KEEP
    contact: Contact | None = None


class PartnerPublic(_Output):
    """A partner, as every caller sees it; ``contact`` only for the partner itself,
    coordinators and admins (null for others)."""

    model_config = ConfigDict(json_schema_extra=_example(id="demo-p-01", **_PARTNER,
                                                         contact=None))

    id: str
    name: str
    type: str
    description: str
    languages: list[str]
    contact: Contact | None


def partner_public(row: dict, show_contact: bool) -> PartnerPublic:
    fields = {k: row[k] for k in PartnerPublic.model_fields if k in row}
    fields["contact"] = row.get("contact") if show_contact else None
    return PartnerPublic(**fields)


# ---------------------------------------------------------------------- offerings
_OFFERING = {
    "title": "Pit safety, shoring and ventilation training",
    "description": "Three-day on-site course for up to 25 miners.", "category": "ohs",
    "regions": ["africa_anglophone"], "countries": [], "languages": ["en", "fr"],
    "commodities": [], "eligibility": {"women_led_only": False, "min_members": 0,
                                       "requires_formal_license": False},
    "capacity": 6, "active": True, "valid_until": "2027-12-31",
}


# The offering's API models are derived from the exchange record (matcher.exchange.Offering):
# a field added there appears in all three. The API only narrows some types to the bundled
# vocabularies (and documents them); everything else is the record's own.
_OFFERING_TYPES: dict[str, Any] = {
    "title": Name, "description": Text, "category": Category, "regions": Regions,
    "countries": Countries, "languages": Languages, "commodities": Commodities,
    "capacity": Capacity | None, "valid_until": ValidUntil | None,
}


def _record_fields(record: type[BaseModel], types: dict[str, Any], *, partial: bool
                   ) -> dict[str, Any]:
    """``record``'s fields but ``id`` as (type, default) pairs for :func:`create_model`: the
    API's narrower ``types`` where given; with ``partial``, every field may be left out, and
    only those that may be empty may be set to null."""
    fields: dict[str, Any] = {}
    for name, info in record.model_fields.items():
        if name == "id":
            continue
        annotation = types.get(name, info.annotation)
        if not partial:
            default = ... if info.is_required() else (
                [] if info.default_factory is list  # documented as such
                else Field(default_factory=info.default_factory) if info.default_factory
                else info.default)
        else:
            nullable = type(None) in get_args(annotation)
            default = None if nullable else _KEEP
        fields[name] = (annotation, default)
    return fields


class _OfferingCreate(_Input):
    """A new offering of the partner in the URL."""

    model_config = ConfigDict(json_schema_extra=_example(**_OFFERING))


class _OfferingUpdate(_Input):
    """Changes to an offering: a field left out keeps its value."""

    model_config = ConfigDict(json_schema_extra=_example(capacity=4, active=False))


class _OfferingPublic(_Output):
    """An offering, as every caller reads it."""

    model_config = ConfigDict(json_schema_extra=_example(id="demo-o-001",
                                                         partner_id="demo-p-01", **_OFFERING))


OfferingCreate = create_model("OfferingCreate", __base__=_OfferingCreate,
                              __doc__=_OfferingCreate.__doc__,
                              **_record_fields(Offering, _OFFERING_TYPES, partial=False))
OfferingUpdate = create_model("OfferingUpdate", __base__=_OfferingUpdate,
                              __doc__=_OfferingUpdate.__doc__,
                              **_record_fields(Offering, _OFFERING_TYPES, partial=True))
OfferingPublic = create_model(
    "OfferingPublic", __base__=_OfferingPublic, __doc__=_OfferingPublic.__doc__,
    id=(str, ...), partner_id=(str, ...),
    **{name: (info.annotation, ...) for name, info in Offering.model_fields.items()
       if name != "id"})


def offering_public(row: dict) -> OfferingPublic:
    return OfferingPublic(**offering_record(row).model_dump(), partner_id=row["partner_id"])


# ---------------------------------------------------------------------- list query parameters
MAX_PAGE = 100

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="records to skip")]
Search = Annotated[str | None, Query(
    min_length=1, max_length=200, description=(
        "full-text search: every word must start a word of the names, titles, descriptions or "
        "texts, in any case, accents ignored ('credito' finds 'crédito'); operators and "
        "quotes are read as words"),
    examples=["gold"])]
RegionFilter = Annotated[Region | None, Query(description="regional network")]
CountryFilter = Annotated[CountryCode | None, Query(description="ISO 3166-1 alpha-2")]
CategoryFilter = Annotated[Category | None, Query(description="category")]
CommodityFilter = Annotated[Commodity | None, Query(description="commodity")]
LanguageFilter = Annotated[LangCode | None, Query(description="language code", examples=["fr"])]


def sort_param(columns: tuple[str, ...]) -> Any:
    """A ``sort`` parameter over a fixed allow-list, ``-column`` for descending."""
    values = tuple(v for c in columns for v in (c, f"-{c}"))
    return Annotated[Literal[values], Query(  # type: ignore[valid-type]
        description=f"sort by one of {', '.join(columns)}; prefix '-' for descending")]


# ---------------------------------------------------------------------- documented errors
def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a profile route, for the OpenAPI document."""
    described = {
        401: {"model": ErrorMessage, "description": "No valid bearer token"},
        403: {"model": ErrorMessage, "description": "The caller's role or scope may not do this"},
        404: {"model": ErrorMessage, "description": "No such record, or not visible to the caller"},
        409: {"model": ErrorMessage, "description": "Clashes with the stored data"},
        422: {"model": ValidationErrorMessage | ErrorMessage,
              "description": "A parameter or a body field is malformed or out of range"},
    }
    return {code: described[code] for code in (401, 403, *codes)}
