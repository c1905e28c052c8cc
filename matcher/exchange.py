"""The exchange format v1 (``FORMAT.md``): parse and validate a document, all or nothing.

``parse_document`` returns a validated :class:`Exchange` or raises :class:`InvalidInput` naming
the record id and field of the first problem found. Nothing here touches the database.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from matcher import strict_json
from matcher.errors import InvalidInput
from matcher.reference import Reference

MAX_TEXT = 10_000  # characters in a need, practice or offering description
MAX_NAME = 300
MAX_LIST = 300
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024

RecordId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
]
LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, strip_whitespace=True)]


# Unicode white space, spelt out: JSON Schema's and pydantic's regular expressions read a
# bracketed list the same way, where their ``\s`` differ.
WHITE_SPACE = r"\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EMAIL = rf"^[^@{WHITE_SPACE}]+@[^@{WHITE_SPACE}]+$"


def _whole(value: Any) -> Any:
    """JSON Schema's integers include ``240.0``: take it as 240 (other floats stay refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


def whole_number(ge: int, le: int) -> Any:
    """A whole number from ``ge`` to ``le`` (``240.0`` reads as 240), whose JSON Schema says
    ``minimum`` and ``maximum``: the bounds come before the validator, or pydantic would
    write them as unknown keywords."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_whole)]


def _iso_date(value: Any) -> Any:
    """Only an ISO date string (``2027-12-31``) is a date here: never a number of seconds."""
    if isinstance(value, date):  # already one (a model built in Python)
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("an ISO date (YYYY-MM-DD) is required")
    return date.fromisoformat(value)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date)]  # JSON Schema: a string, format date

Count = whole_number(0, 10_000_000)  # members
Slots = whole_number(0, 1_000_000)  # an offering's capacity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Contact(_Strict):
    """Extension: how to reach an organisation (used in introductions)."""

    name: Annotated[str, StringConstraints(max_length=MAX_NAME)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^\+?[0-9 ()\-]{4,40}$")] | None = None
    whatsapp: Annotated[str, StringConstraints(max_length=40, pattern=r"^\+?[0-9 ()\-]{4,40}$")] | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=EMAIL)] | None = None


class Eligibility(_Strict):
    women_led_only: bool = False
    min_members: Count = 0
    requires_formal_license: bool = False


class Offering(_Strict):
    id: RecordId
    title: Name
    description: Text = ""
    category: str
    regions: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    countries: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    languages: list[LangCode] = Field(default_factory=list, max_length=MAX_LIST)
    commodities: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    capacity: Slots | None = None
    active: bool = True  # extension: an inactive offering is never suggested
    valid_until: IsoDate | None = None  # extension: not suggested after it


class Partner(_Strict):
    id: RecordId
    name: Name
    type: str = "other"
    description: Text = ""
    languages: list[LangCode] = Field(default_factory=list, max_length=MAX_LIST)
    contact: Contact | None = None  # extension
    offerings: list[Offering] = Field(default_factory=list, max_length=100_000)


class Need(_Strict):
    id: RecordId
    text: LongText
    category: str | None = None
    sensitive: bool | None = None  # extension; None: sensitive when its category is sgbv


class Practice(_Strict):
    id: RecordId
    text: LongText
    category: str | None = None


class Association(_Strict):
    id: RecordId
    name: Name
    country: str
    region: str | None = None
    languages: list[LangCode] = Field(default_factory=list, max_length=MAX_LIST)
    commodities: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    members: Count = 0
    women_led: bool = False
    formal_license: bool = False
    description: Text = ""
    contact: Contact | None = None  # extension
    needs: list[Need] = Field(default_factory=list, max_length=100_000)
    practices: list[Practice] = Field(default_factory=list, max_length=100_000)


class Exchange(_Strict):
    partners: list[Partner] = Field(default_factory=list)
    associations: list[Association] = Field(default_factory=list)


def _record_at(raw: Any, loc: tuple) -> tuple[str | None, str | None]:
    """The id of the deepest record with an id on a pydantic error path, and the path below it
    (``needs[3].id`` when the third need of that association has no id)."""
    record, start, node = None, 0, raw
    for depth, step in enumerate(loc):
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            record, start = node["id"], depth
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    steps = list(loc[start:])
    while len(steps) > 1 and isinstance(steps[-1], int):
        steps.pop()  # "languages", not "languages[0]": the value is quoted in the message
    field = ""
    for step in steps:
        field += f"[{step}]" if isinstance(step, int) else (f".{step}" if field else str(step))
    return record, field or None


def _check_vocabularies(doc: Exchange, ref: Reference) -> None:
    def vocab(values: list[str] | str | None, allowed: dict, record: str, field: str) -> None:
        for value in [values] if isinstance(values, str) else values or []:
            if value not in allowed:
                raise InvalidInput(
                    f"unknown value {_shown(value) or '(not shown)'} "
                    f"(expected one of: {', '.join(allowed)})", record=record, field=field)

    seen: dict[tuple[str, str], str] = {}

    def unique(kind: str, rid: str) -> None:
        if (kind, rid) in seen:
            raise InvalidInput(f"duplicate {kind} id", record=rid, field="id")
        seen[(kind, rid)] = rid

    for partner in doc.partners:
        unique("partner", partner.id)
        vocab(partner.type, ref.partner_types, partner.id, "type")
        for offering in partner.offerings:
            unique("offering", offering.id)
            vocab(offering.category, ref.categories, offering.id, "category")
            vocab(offering.regions, ref.regions, offering.id, "regions")
            vocab(offering.commodities, ref.commodities, offering.id, "commodities")
            for country in offering.countries:
                if not ref.is_country_code(country):
                    raise InvalidInput(
                        f"not an ISO 3166-1 alpha-2 code: {_shown(country) or '(not shown)'}",
                        record=offering.id, field="countries")
    for assoc in doc.associations:
        unique("association", assoc.id)
        if not ref.is_country_code(assoc.country):
            raise InvalidInput(
                f"not an ISO 3166-1 alpha-2 code: {_shown(assoc.country) or '(not shown)'}",
                record=assoc.id, field="country")
        if assoc.region is None:
            assoc.region = ref.region_of(assoc.country)
            if assoc.region is None:
                raise InvalidInput(
                    f"region missing and country {_shown(assoc.country)} belongs to no "
                    "regional network",
                    record=assoc.id, field="region",
                )
        vocab(assoc.region, ref.regions, assoc.id, "region")
        vocab(assoc.commodities, ref.commodities, assoc.id, "commodities")
        for need in assoc.needs:
            unique("need", need.id)
            vocab(need.category, ref.categories, need.id, "category")
        for practice in assoc.practices:
            unique("practice", practice.id)
            vocab(practice.category, ref.categories, practice.id, "category")


# Only codes, ids, dates and numbers are quoted in errors, never text a user typed (a need's
# text may be sensitive; names and contacts are personal).
_CODE_FIELDS = {"id", "type", "category", "country", "region", "regions", "countries",
                "languages", "commodities", "valid_until"}
_CODE = re.compile(r"[\w.:+\-]{1,40}")


def _shown(value: Any, field: str | None = None) -> str:
    """``value`` quoted for an error message when it is a number or (in a code field, or when
    ``field`` is None) a short code; "" otherwise."""
    if isinstance(value, (bool, int)) or isinstance(value, float) and math.isfinite(value):
        return repr(value)
    name = (field or "").rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(value, str) and (field is None or name in _CODE_FIELDS) \
            and _CODE.fullmatch(value):
        return repr(value)
    return ""


def parse_document(data: bytes | str | dict, ref: Reference) -> Exchange:
    """Validate an exchange document; raise :class:`InvalidInput` on the first problem."""
    if isinstance(data, (bytes, str)):
        if len(data) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"document larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
        try:
            raw = strict_json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"malformed JSON: {exc}") from None
        found = strict_json.find_non_finite(raw) if strict_json.may_hold_non_finite(data) \
            else None
    else:
        raw, found = data, strict_json.find_non_finite(data)
    if not isinstance(raw, dict):
        raise InvalidInput("the document must be a JSON object with 'partners' and 'associations'")
    if found:
        record, field = _record_at(raw, found[0])
        raise InvalidInput(strict_json.rule(found[1]), record=record, field=field)
    try:
        doc = Exchange.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        record, field = _record_at(raw, tuple(first["loc"]))
        shown = _shown(first.get("input"), field)
        raise InvalidInput(f"{first['msg']}{f' (got {shown})' if shown else ''}",
                           record=record, field=field) from None
    _check_vocabularies(doc, ref)
    return doc


# Extension fields beyond FORMAT.md v1, written only when they say something.
_EXTENSIONS = {"active": True, "valid_until": None, "contact": None, "sensitive": None}


def _drop_defaults(record: dict) -> dict:
    for key, default in _EXTENSIONS.items():
        if key in record and record[key] == default:
            del record[key]
    return record


def dump_document(doc: Exchange) -> dict:
    """The JSON-ready form of ``doc``; extension fields are written only when not default."""
    out = doc.model_dump(mode="json")
    for partner in out["partners"]:
        _drop_defaults(partner)
        for offering in partner["offerings"]:
            _drop_defaults(offering)
    for association in out["associations"]:
        _drop_defaults(association)
        for need in association["needs"]:
            _drop_defaults(need)
    return out
