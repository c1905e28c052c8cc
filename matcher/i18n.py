"""Translations of user-facing engine text (reasons) with Babel message catalogues.

Catalogues live in ``data/locale/<lang>/LC_MESSAGES/messages.po``; they are read directly with
Babel (no compile step). English is the source language.
"""

from __future__ import annotations

from functools import lru_cache

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from matcher.reference import UI_LANGUAGES, default_data_dir


@lru_cache(maxsize=8)
def _catalog(lang: str) -> dict[str, str]:
    path = default_data_dir() / "locale" / lang / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def N_(message: str) -> str:
    """Marks ``message`` for the page catalogues (e.g. a scorer's ``label``); translated
    where it is shown."""
    return message


def gettext(message: str, lang: str = "en") -> str:
    """``message`` in ``lang`` (falls back to English)."""
    if lang not in UI_LANGUAGES or lang == "en":
        return message
    return _catalog(lang).get(message, message)


def _(message: str, lang: str = "en", **values: object) -> str:
    """Translate, then fill ``{placeholders}``."""
    return gettext(message, lang).format(**values)


def number(value: float, lang: str = "en", digits: int = 2) -> str:
    """A decimal formatted for ``lang`` (0.62 in English, 0,62 in French)."""
    return format_decimal(round(value, digits), format="0." + "0" * digits, locale=lang)
