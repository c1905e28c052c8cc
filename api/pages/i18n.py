"""Page text in four languages: the ``web`` Babel domain, compiled at run time from ``.po``.

Catalogues live beside the engine's (``data/locale/<lang>/LC_MESSAGES/web.po``); English is the
source language. One Jinja environment per language, each with its translations installed
(``jinja2.ext.i18n``, new-style gettext) and filters that format numbers and dates for it.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_percent
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from matcher.reference import UI_LANGUAGES, default_data_dir

DOMAIN = "web"
DEFAULT = "en"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Each language named in itself, for the selector.
NATIVE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "pt": "Português"}


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def catalogue_path(lang: str) -> Path:
    return default_data_dir() / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def translations(lang: str) -> Translations:
    """The ``web`` catalogue of ``lang``, read from its ``.po`` and compiled in memory."""
    path = catalogue_path(lang)
    if not path.is_file():
        return Translations()  # NullTranslations: the English source text
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def parse_accept_language(header: str | None) -> list[str]:
    """The supported languages an ``Accept-Language`` header asks for, most wanted first."""
    wanted: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].split("_")[0].lower()
        if quality > 0 and primary in UI_LANGUAGES:
            wanted.append((-quality, position, primary))
    seen: list[str] = []
    for _, _, lang in sorted(wanted):
        if lang not in seen:
            seen.append(lang)
    return seen


def choose_language(chosen: str | None, accept_language: str | None) -> str:
    """The user's own choice first, then the browser's Accept-Language, then English."""
    if chosen in UI_LANGUAGES:
        return chosen
    return next(iter(parse_accept_language(accept_language)), DEFAULT)


@lru_cache(maxsize=8)
def environment(lang: str) -> Environment:
    """The Jinja environment rendering pages in ``lang``."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.globals.update(lang=lang, languages=[(code, NATIVE_NAMES[code]) for code in UI_LANGUAGES])
    env.filters.update(
        number=lambda value, digits=0: format_number(value, lang, digits),
        signed=lambda value: format_number(value, lang, 2, signed=True),
        percent=lambda value: format_percent(value, lang),
        date=lambda value: format_date(_as_datetime(value), format="long", locale=lang),
        datetime=lambda value: format_datetime(_as_datetime(value), format="medium",
                                               locale=lang),
    )
    return env


def format_number(value: float, lang: str, digits: int = 0, signed: bool = False) -> str:
    """``value`` for ``lang``: 1,240.50 in English, 1 240,50 in French; with ``signed`` a plus or
    minus sign always."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern, locale=lang)


def format_percent(value: float, lang: str) -> str:
    """A share from 0 to 1 as a whole percentage for ``lang``: 72% in English, 72 % in
    French."""
    return babel_percent(round(value, 2), locale=lang)


def _as_datetime(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
