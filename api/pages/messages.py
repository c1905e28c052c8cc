"""The page messages, extracted from the templates and the page modules with Babel.

``python -m api.pages.messages`` updates every ``web.po`` (new messages added untranslated,
vanished ones dropped; English as the template), and the tests check that every message has a
translation in every language. ``python -m api.pages.messages --fill FILE.json`` also sets the
translations given in ``FILE.json`` (``{"msgid": {"fr": "...", "es": "...", "pt": "..."}}``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from api.pages.i18n import DOMAIN, catalogue_path
from matcher.reference import UI_LANGUAGES

API = Path(__file__).resolve().parent.parent
METHODS = [("pages/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> dict[str, list[str]]:
    """Every message id, with where it occurs."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            API, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"api/{filename}:{lineno}")
    return found


def read(lang: str) -> Catalog:
    with open(catalogue_path(lang), "rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def update(fill: dict[str, dict[str, str]] | None = None) -> None:
    """Rewrite every catalogue from the messages in the code, keeping known translations and
    taking those in ``fill`` (msgid -> language -> text) over them."""
    messages = extract()
    fill = fill or {}
    unknown = sorted(set(fill) - set(messages))
    if unknown:
        raise SystemExit(f"not a message of the pages: {unknown[0]!r}")
    for lang in UI_LANGUAGES:
        path = catalogue_path(lang)
        old = read(lang) if path.is_file() else Catalog(locale=lang, domain=DOMAIN)
        new = Catalog(locale=lang, domain=DOMAIN, project="delve-matcher", version="1",
                      fuzzy=False, header_comment=f"# {lang} page text of delve-matcher",
                      creation_date=old.creation_date, revision_date=old.revision_date)
        for msgid, places in sorted(messages.items()):
            previous = old.get(msgid)
            given = fill.get(msgid, {}).get(lang) if lang != "en" else None
            new.add(msgid, given or (previous.string if previous else ""),
                    locations=[tuple(p.rsplit(":", 1)) for p in places])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            write_po(fh, new, width=100, omit_header=False, sort_output=True,
                     include_lineno=False)
        missing = sum(1 for m in new if m.id and not m.string)
        state = "the source language" if lang == "en" else f"{missing} untranslated"
        print(f"{path}: {len(messages)} messages, {state}", file=sys.stderr)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--fill"] and len(argv) == 2:
        update(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    elif not argv:
        update()
    else:
        raise SystemExit("usage: python -m api.pages.messages [--fill FILE.json]")


if __name__ == "__main__":
    main(sys.argv[1:])
