"""The page messages, extracted from the templates and the page modules with Babel.

``python -m api.pages.messages`` updates every ``web.po`` (new messages added untranslated,
vanished ones dropped; English as the template), and the tests check that every message has a
translation in every language. ``python -m api.pages.messages --fill FILE.json`` also sets the
translations given in ``FILE.json`` (``{"msgid": {"fr": "...", "es": "...", "pt": "..."}}``).

A message is known by its key: its id, or for one marked with a context (``pgettext``: the same
English with another translation) ``"<context>\x04<msgid>"``, as gettext itself joins them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from api.pages.i18n import DOMAIN, catalogue_path
from matcher.reference import UI_LANGUAGES

API = Path(__file__).resolve().parent.parent
# Scorers carry their page labels (``label = N_("...")``): only N_ is a page message there, the
# engine's reasons (``_``) live in the engine's own catalogue.
PLUGINS = API.parent / "plugins"
METHODS = [("pages/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
            "pgettext": ((1, "c"), 2)}
CONTEXT = "\x04"  # between a message's context and its id, in its key


def key(msgid: str, context: str | None = None) -> str:
    return f"{context}{CONTEXT}{msgid}" if context else msgid


def split(message_key: str) -> tuple[str, str | None]:
    """A message key's id and context."""
    context, _, msgid = message_key.rpartition(CONTEXT)
    return msgid, context or None


def lookup(catalogue: Catalog, message_key: str) -> Message | None:
    """The catalogue's entry for a message key."""
    msgid, context = split(message_key)
    return catalogue.get(msgid, context=context)


def key_of(message: Message) -> str:
    return key(message.id, message.context)


def extract() -> dict[str, list[str]]:
    """Every message key, with where it occurs."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            API, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(key(msgid, context), []).append(f"api/{filename}:{lineno}")
    for filename, lineno, msgid, _comments, _context in extract_from_dir(
            PLUGINS, [("**.py", "python")], keywords={"N_": None}):
        found.setdefault(msgid, []).append(f"plugins/{filename}:{lineno}")
    return found


def read(lang: str) -> Catalog:
    with open(catalogue_path(lang), "rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def update(fill: dict[str, dict[str, str]] | None = None) -> None:
    """Rewrite every catalogue from the messages in the code, keeping known translations and
    taking those in ``fill`` (message key -> language -> text) over them."""
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
        for message_key, places in sorted(messages.items()):
            previous = lookup(old, message_key)
            given = fill.get(message_key, {}).get(lang) if lang != "en" else None
            msgid, context = split(message_key)
            new.add(msgid, given or (previous.string if previous else ""),
                    locations=[tuple(p.rsplit(":", 1)) for p in places], context=context)
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
