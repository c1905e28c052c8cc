"""Posted forms of every page into the API's own schemas, and their errors back.

A page builds the route's pydantic ``*Create`` / ``*Update`` model from the form
(:func:`validated`), so the page and the API refuse the same input; the errors come back as
translatable messages keyed by form field (shown next to the fields; the input is kept).
The posted text is never put in a message: a need's text may be sensitive.

Languages are edited with one widget everywhere (``languages_fields`` in ``_forms.html``): a
checkbox for each page language (``language-<code>``) and a text field for any other
(``other_languages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from api.pages.i18n import N_
from matcher.errors import InvalidInput
from matcher.reference import UI_LANGUAGES, Reference

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Message:
    """A message id and its parameters, translated where it is shown: ``_(msgid, **params)``."""

    msgid: str
    params: dict = field(default_factory=dict)


class FormInvalid(Exception):
    """A form the schema refused: the messages per form field."""

    def __init__(self, errors: dict[str, Message]):
        super().__init__(", ".join(errors))
        self.errors = errors


REQUIRED = Message(N_("Please fill this in."))
NOT_ACCEPTED = Message(N_("This value is not accepted."))
# Pattern mismatches per field: what the field expects, in plain words.
FORMATS = {
    "contact_phone": N_("Write a phone number: digits, spaces, + ( ) and - only."),
    "contact_whatsapp": N_("Write a phone number: digits, spaces, + ( ) and - only."),
    "contact_email": N_("Write an email address, like name@example.org."),
    "other_languages": N_("Write language codes of two or three letters, separated by commas "
                          "(for example: en, fr, sw)."),
    "country": N_("Choose a country from the list."),
}


def _message(error: dict, name: str) -> Message:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return REQUIRED
    if kind == "string_too_long":
        return Message(N_("This is too long: at most %(max)s characters."),
                       {"max": ctx.get("max_length")})
    if kind == "too_long":
        return Message(N_("Too many entries: at most %(max)s."), {"max": ctx.get("max_length")})
    if kind == "string_pattern_mismatch" and name in FORMATS:
        return Message(FORMATS[name])
    if kind in ("value_error", "literal_error") and name in FORMATS:
        return Message(FORMATS[name])
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return Message(N_("Write a whole number, like 120."))
    if kind == "greater_than_equal":
        return Message(N_("Write a number of at least %(min)s."), {"min": ctx.get("ge")})
    if kind == "less_than_equal":
        return Message(N_("Write a number of at most %(max)s."), {"max": ctx.get("le")})
    if kind == "literal_error":
        return Message(N_("Choose one of the options."))
    return NOT_ACCEPTED


# Schema fields shown under another form field: the language checkboxes send known codes, so
# a wrong language code is one typed in the "other languages" field.
FORM_FIELDS = {"languages": "other_languages"}


def field_name(loc: tuple) -> str:
    """The schema field of an error location: ``("contact", "phone")`` -> ``contact_phone``;
    list positions are dropped (``("languages", 1)`` -> ``languages``)."""
    return "_".join(str(part) for part in loc if not isinstance(part, int)) or "form"


def _shown_at(name: str) -> str:
    """The form field that shows the errors of the schema field ``name``."""
    return FORM_FIELDS.get(name, name)


def validated(model: type[M], data: dict) -> M:
    """``model`` built from ``data``, or :class:`FormInvalid` with one message per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, Message] = {}
        for error in exc.errors():
            name = _shown_at(field_name(tuple(error["loc"])))
            errors.setdefault(name, _message(error, name))
        raise FormInvalid(errors) from None


def created(model: type[BaseModel], data: dict) -> dict:
    """A create's fields, checked by ``model`` (the API's schema), as the service takes them;
    :class:`FormInvalid` otherwise."""
    return validated(model, data).model_dump(mode="json")


def changed(model: type[BaseModel], data: dict) -> dict:
    """An update's fields (those the form sets), checked by ``model``, as the service takes
    them; :class:`FormInvalid` otherwise."""
    return validated(model, data).model_dump(mode="json", exclude_unset=True)


def errors_of(exc: FormInvalid | InvalidInput) -> dict[str, Message]:
    """The messages per form field of a refused form: the schema's, or (InvalidInput) the
    import's own rules', next to the field they name."""
    if isinstance(exc, FormInvalid):
        return exc.errors
    name = _shown_at((exc.field or "form").replace(".", "_"))
    return {name: Message(FORMATS.get(name, NOT_ACCEPTED.msgid))}


# ---------------------------------------------------------------------- reading form values
def text(form: dict[str, str], name: str) -> str:
    return form.get(name, "")


def checked(form: dict[str, str], name: str) -> bool:
    """A checkbox: sent (with any value) when ticked, absent when not."""
    return name in form


def optional(form: dict[str, str], name: str) -> str | None:
    """A select or field whose empty value means "none"."""
    value = form.get(name, "").strip()
    return value or None


def whole_number(form: dict[str, str], name: str) -> int | str:
    """The number typed in (spaces allowed as thousands separators); what cannot be one is
    passed on as text for the schema to refuse."""
    raw = form.get(name, "").strip()
    digits = raw.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    return int(digits) if digits.isdigit() and len(digits) < 12 else raw


def code_list(form: dict[str, str], name: str) -> list[str]:
    """Codes typed in separated by commas or spaces: ``"en, TW"`` -> ``["en", "tw"]``."""
    raw = form.get(name, "").replace(",", " ").replace(";", " ")
    return list(dict.fromkeys(part.lower() for part in raw.split()))


def ticked(form: dict[str, str], prefix: str, choices: list[str]) -> list[str]:
    """The choices whose checkbox ``<prefix><choice>`` is ticked, in the choices' order."""
    return [choice for choice in choices if f"{prefix}{choice}" in form]


# ---------------------------------------------------------------------- languages
# The languages offered as checkboxes; any other code goes in the "other languages" field.
FORM_LANGUAGES = list(UI_LANGUAGES)


def languages(form: dict[str, str]) -> list[str]:
    """The languages posted: the ticked ones, then the other codes typed in."""
    return list(dict.fromkeys([*ticked(form, "language-", FORM_LANGUAGES),
                               *code_list(form, "other_languages")]))


def language_values(codes: list[str] | None) -> dict:
    """The language fields showing stored ``codes``."""
    codes = codes or []
    return {"languages": [code for code in codes if code in FORM_LANGUAGES],
            "other_languages": ", ".join(c for c in codes if c not in FORM_LANGUAGES)}


def typed_language_values(form: dict[str, str]) -> dict:
    """The language fields as the user filled them in (to show a refused form again)."""
    return {"languages": ticked(form, "language-", FORM_LANGUAGES),
            "other_languages": text(form, "other_languages")}


# ---------------------------------------------------------------------- choices shown
def category_choices(ref: Reference, lang: str) -> list[tuple[str, str]]:
    """(id, label) of every category, in the reference order."""
    return [(cid, ref.category_label(cid, lang)) for cid in ref.categories]


def country_choices(ref: Reference, lang: str) -> list[tuple[str, str]]:
    """(code, name) of every country with a regional network, sorted by name in ``lang``."""
    return sorted(((code, ref.country_name(code, lang)) for code in ref.countries),
                  key=lambda item: item[1].casefold())


def commodity_choices(ref: Reference, lang: str) -> list[tuple[str, str]]:
    return [(cid, ref.commodity_label(cid, lang)) for cid in ref.commodities]


def language_choices(ref: Reference, lang: str) -> list[tuple[str, str]]:
    """(code, name in ``lang``) of the languages offered as checkboxes."""
    return [(code, ref.language_name(code, lang)) for code in FORM_LANGUAGES]
