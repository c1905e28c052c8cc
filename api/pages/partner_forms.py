"""The partner's forms: posted fields into the API's input (``OfferingCreate``,
``OfferingUpdate``, ``PartnerUpdate`` validate it, through the helpers of
:mod:`api.pages.association_forms`), and stored rows back into form values.

A form field is named after the schema field it fills, nested names joined with ``_``
(``eligibility_min_members``, ``contact_phone``); a list of fixed choices is one checkbox per
choice (``region-africa_anglophone``), a list of codes a comma-separated text field.
"""

from __future__ import annotations

from api.pages.association_forms import (
    FormInvalid,
    Message,
    checked,
    code_list,
    errors_of,
    text,
    ticked,
    validated,
    whole_number,
)
from api.pages.render import N_
from matcher.errors import InvalidInput
from matcher.reference import UI_LANGUAGES, Reference

# The languages offered as checkboxes; any other code goes in the "other languages" field.
FORM_LANGUAGES = list(UI_LANGUAGES)
CONTACT_FIELDS = ("name", "phone", "whatsapp", "email")
COUNTRY_CODES = Message(N_("Write country codes of two letters, separated by commas (for "
                           "example: GH, KE), or leave this empty."))



def language_choices(ref: Reference, lang: str) -> list[tuple[str, str]]:
    """(code, name in ``lang``) of the languages offered as checkboxes."""
    return [(code, ref.language_name(code, lang)) for code in FORM_LANGUAGES]


def _number(form: dict[str, str], name: str, empty: int | None) -> int | str | None:
    """A whole number typed in; ``empty`` when left blank."""
    return whole_number(form, name) if form.get(name, "").strip() else empty


def _languages(form: dict[str, str]) -> list[str]:
    return list(dict.fromkeys([*ticked(form, "language-", FORM_LANGUAGES),
                               *code_list(form, "other_languages")]))


def _language_values(languages: list[str]) -> dict:
    return {"languages": [code for code in languages if code in FORM_LANGUAGES],
            "other_languages": ", ".join(c for c in languages if c not in FORM_LANGUAGES)}


def offering_input(form: dict[str, str], ref: Reference) -> dict:
    """The schema's input from a posted offering form."""
    return {
        "title": text(form, "title"), "description": text(form, "description"),
        "category": text(form, "category"),
        "regions": ticked(form, "region-", list(ref.regions)),
        "countries": [code.upper() for code in code_list(form, "countries")],
        "languages": _languages(form),
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
            "title", "description", "category", "countries", "other_languages",
            "eligibility_min_members", "capacity", "valid_until")},
            "regions": ticked(form, "region-", list(ref.regions)),
            "languages": ticked(form, "language-", FORM_LANGUAGES),
            "commodities": ticked(form, "commodity-", list(ref.commodities)),
            **{name: checked(form, name) for name in (
                "eligibility_women_led_only", "eligibility_requires_formal_license", "active")}}
    if row is None:
        return {"regions": [], "languages": [], "commodities": [],
                "eligibility_min_members": "0", "active": True}
    return {
        "title": row["title"], "description": row["description"], "category": row["category"],
        "regions": row["regions"], "countries": ", ".join(row["countries"]),
        **_language_values(row["languages"]), "commodities": row["commodities"],
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
            "description": text(form, "description"), "languages": _languages(form),
            "contact": contact if any(contact.values()) else None}


def partner_values(row: dict | None, form: dict[str, str] | None = None) -> dict:
    """What the profile form shows: the stored profile, or the user's input as typed."""
    if form is not None:
        return {**{name: text(form, name) for name in (
            "name", "type", "description", "other_languages",
            *(f"contact_{field}" for field in CONTACT_FIELDS))},
            "languages": ticked(form, "language-", FORM_LANGUAGES)}
    assert row is not None
    contact = row.get("contact") or {}
    return {"name": row["name"], "type": row["type"], "description": row["description"],
            **_language_values(row["languages"]),
            **{f"contact_{field}": contact.get(field) or "" for field in CONTACT_FIELDS}}


def refused(exc: FormInvalid | InvalidInput) -> dict[str, Message]:
    """The messages per form field of a refused partner form."""
    errors = errors_of(exc)
    if "countries" in errors:
        errors["countries"] = COUNTRY_CODES
    if "languages" in errors:  # the checkboxes send known codes: the typed ones are wrong
        errors["other_languages"] = errors.pop("languages")
    return errors


__all__ = ["FORM_LANGUAGES", "FormInvalid", "Message", "language_choices", "offering_input",
           "offering_values", "partner_input", "partner_values", "refused", "validated"]
