"""The partner's forms: posted fields into the API's input (``OfferingCreate``,
``OfferingUpdate``, ``PartnerUpdate`` validate it, through the helpers of
:mod:`api.pages.forms`), and stored rows back into form values.

A form field is named after the schema field it fills, nested names joined with ``_``
(``eligibility_min_members``, ``contact_phone``); a list of fixed choices is one checkbox per
choice (``region-africa_anglophone``), a list of codes a comma-separated text field; the
languages are the widget every page edits them with (:func:`api.pages.forms.languages`).
"""

from __future__ import annotations

from api.pages.forms import (
    FormInvalid,
    Message,
    checked,
    code_list,
    errors_of,
    language_values,
    languages,
    text,
    ticked,
    typed_language_values,
    whole_number,
)
from api.pages.i18n import N_
from matcher.errors import InvalidInput
from matcher.reference import Reference

CONTACT_FIELDS = ("name", "phone", "whatsapp", "email")
COUNTRY_CODES = Message(N_("Write country codes of two letters, separated by commas (for "
                           "example: GH, KE), or leave this empty."))


def _number(form: dict[str, str], name: str, empty: int | None) -> int | str | None:
    """A whole number typed in; ``empty`` when left blank."""
    return whole_number(form, name) if form.get(name, "").strip() else empty


def offering_input(form: dict[str, str], ref: Reference) -> dict:
    """The schema's input from a posted offering form."""
    return {
        "title": text(form, "title"), "description": text(form, "description"),
        "category": text(form, "category"),
        "regions": ticked(form, "region-", list(ref.regions)),
        "countries": [code.upper() for code in code_list(form, "countries")],
        "languages": languages(form),
        "commodities": ticked(form, "commodity-", list(ref.commodities)),
        "eligibility": {
            "women_led_only": checked(form, "eligibility_women_led_only"),
            "min_members": _number(form, "eligibility_min_members", 0),
            "requires_formal_license": checked(form, "eligibility_requires_formal_license")},
        "capacity": _number(form, "capacity", None),
        "active": checked(form, "active"),
        "valid_until": text(form, "valid_until").strip() or None,
    }


def offering_values(row: dict | None, form: dict[str, str] | None = None,
                    ref: Reference | None = None) -> dict:
    """What the offering form shows: a stored offering's fields, a new offering's defaults
    (``row`` None), or, after a refused form, the user's input as typed."""
    if form is not None and ref is not None:
        return {**{name: text(form, name) for name in (
            "title", "description", "category", "countries", "eligibility_min_members",
            "capacity", "valid_until")},
            "regions": ticked(form, "region-", list(ref.regions)),
            **typed_language_values(form),
            "commodities": ticked(form, "commodity-", list(ref.commodities)),
            **{name: checked(form, name) for name in (
                "eligibility_women_led_only", "eligibility_requires_formal_license", "active")}}
    if row is None:
        return {"regions": [], "languages": [], "commodities": [],
                "eligibility_min_members": "0", "active": True}
    return {
        "title": row["title"], "description": row["description"], "category": row["category"],
        "regions": row["regions"], "countries": ", ".join(row["countries"]),
        **language_values(row["languages"]), "commodities": row["commodities"],
        "eligibility_women_led_only": row["women_led_only"],
        "eligibility_min_members": str(row["min_members"]),
        "eligibility_requires_formal_license": row["requires_formal_license"],
        "capacity": "" if row["capacity"] is None else str(row["capacity"]),
        "active": row["active"], "valid_until": row["valid_until"] or "",
    }


def partner_input(form: dict[str, str]) -> dict:
    """The schema's (``PartnerUpdate``) input from a posted profile form."""
    contact = {field: text(form, f"contact_{field}").strip() or None
               for field in CONTACT_FIELDS}
    return {"name": text(form, "name"), "type": text(form, "type"),
            "description": text(form, "description"), "languages": languages(form),
            "contact": contact if any(contact.values()) else None}


def partner_values(row: dict | None, form: dict[str, str] | None = None) -> dict:
    """What the profile form shows: the stored profile, or the user's input as typed."""
    if form is not None:
        return {**{name: text(form, name) for name in (
            "name", "type", "description", *(f"contact_{field}" for field in CONTACT_FIELDS))},
            **typed_language_values(form)}
    assert row is not None
    contact = row.get("contact") or {}
    return {"name": row["name"], "type": row["type"], "description": row["description"],
            **language_values(row["languages"]),
            **{f"contact_{field}": contact.get(field) or "" for field in CONTACT_FIELDS}}


def refused(exc: FormInvalid | InvalidInput) -> dict[str, Message]:
    """The messages per form field of a refused partner form."""
    errors = errors_of(exc)
    if "countries" in errors:
        errors["countries"] = COUNTRY_CODES
    return errors
