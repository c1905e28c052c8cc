"""The multilingual ASM glossary: miners' own words (galamsey, azogue, barequeros, ...) mapped
to concepts, so that the word match and the embedders see the concept behind a local term.

The bundled ``data/glossary.json`` is read first, then the deployment's own file (settings
``glossary``), which ``matcher glossary add`` writes. Matching folds case and accents and
accepts a plural ending (-s, -es).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from matcher.reference import default_data_dir

BUNDLED = "glossary.json"
CONCEPT_TOKEN = "§"  # prefix of a concept's token in the word match: no word starts with it
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_CONCEPT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _fold(text: str) -> str:
    if text.isascii():  # the same, without a pass per character (most texts)
        return text.lower()
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def _same(word: str, term: str) -> bool:
    return word == term or word == term + "s" or word == term + "es"


@dataclass
class Concept:
    gloss: str
    terms: dict[str, list[str]] = field(default_factory=dict)  # language(-REGION) -> words


class GlossaryError(ValueError):
    """A glossary file or an entry that cannot be used."""


@dataclass
class Glossary:
    """``known``: the languages the encoders know well; a term in another language is glossed
    like a regional one (None: every language)."""

    concepts: dict[str, Concept]
    digest: str = ""
    known: frozenset[str] | None = None
    _index: dict[str, list[tuple[tuple[str, ...], str, bool]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Index every term by its first word: (its words, its concept, whether English)."""
        self._index = {}
        for name, concept in self.concepts.items():
            for tag, terms in concept.terms.items():
                for term in terms:
                    words = tuple(_words(term))
                    if words:
                        self._index.setdefault(words[0], []).append(
                            (words, name, "-" not in tag and (self.known is None
                                                              or tag in self.known)))
        for entries in self._index.values():
            entries.sort(key=lambda e: -len(e[0]))

    def matches(self, text: str) -> list[tuple[str, bool]]:
        """The concepts ``text`` names, in order, each with whether it was only named by
        words of a whole language the encoders know (then they need no gloss); a term under a
        regional tag (``es-CO``) is a local word."""
        words = _words(text)
        found: dict[str, bool] = {}
        i = 0
        while i < len(words):
            step = 1
            for key in (words[i], words[i][:-1], words[i][:-2]):
                for terms, name, common in self._index.get(key, ()):
                    n = len(terms)
                    if len(words) - i >= n and all(_same(w, t) for w, t in
                                                   zip(words[i:i + n], terms)):
                        found[name] = found.get(name, True) and common
                        step = n
                        break
                else:
                    continue
                break
            i += step
        return list(found.items())

    def concepts_in(self, text: str) -> list[str]:
        return [name for name, _ in self.matches(text)]

    def tokens(self, text: str) -> list[str]:
        """One word-match token per concept ``text`` names, the same in every language."""
        return [CONCEPT_TOKEN + name for name in self.concepts_in(text)]

    def expand(self, text: str) -> str:
        """``text`` followed by the English gloss of each concept it names in local words
        (unchanged when it names none)."""
        glosses = [self.concepts[name].gloss for name, common in self.matches(text)
                   if not common]
        return f"{text} ({'; '.join(glosses)})" if glosses else text


def _concepts(raw: object, where: str) -> dict[str, Concept]:
    if not isinstance(raw, dict) or not isinstance(raw.get("concepts"), dict):
        raise GlossaryError(f"{where}: expected an object with 'concepts'")
    out = {}
    for name, entry in raw["concepts"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("terms", {}), dict):
            raise GlossaryError(f"{where}: concept {name!r} must have 'terms' by language")
        terms = {tag: [str(t) for t in words] for tag, words in entry.get("terms", {}).items()
                 if isinstance(words, list)}
        out[name] = Concept(str(entry.get("gloss") or name.replace("_", " ")), terms)
    return out


def read_file(path: Path) -> dict[str, Concept]:
    """The concepts of one glossary file (GlossaryError when it is not one)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GlossaryError(f"cannot read the glossary {path}: {exc}") from exc
    return _concepts(raw, str(path))


def merge(base: dict[str, Concept], extra: dict[str, Concept]) -> dict[str, Concept]:
    """``base`` with ``extra``'s concepts and terms added (a gloss in ``extra`` wins)."""
    out = {name: Concept(c.gloss, {t: list(w) for t, w in c.terms.items()})
           for name, c in base.items()}
    for name, concept in extra.items():
        into = out.setdefault(name, Concept(concept.gloss))
        into.gloss = concept.gloss or into.gloss
        for tag, words in concept.terms.items():
            into.terms.setdefault(tag, [])
            into.terms[tag] += [w for w in words if w not in into.terms[tag]]
    return out


def _digest(concepts: dict[str, Concept]) -> str:
    flat = {n: [c.gloss, sorted((t, sorted(w)) for t, w in c.terms.items())]
            for n, c in sorted(concepts.items())}
    return hashlib.sha256(json.dumps(flat, ensure_ascii=False).encode()).hexdigest()[:12]


def load_glossary(local: Path | None = None, data_dir: Path | None = None,
                  known: frozenset[str] | None = None) -> Glossary:
    """The bundled glossary (from ``data_dir`` when it has one) with the deployment's
    ``local`` file merged on top (when it exists); ``known``: see :class:`Glossary`."""
    bundled = (data_dir or default_data_dir()) / BUNDLED
    if not bundled.is_file():
        bundled = default_data_dir() / BUNDLED
    concepts = read_file(bundled)
    if local is not None and local.is_file():
        concepts = merge(concepts, read_file(local))
    digest = _digest(concepts)
    if known is not None:
        digest += "-" + hashlib.sha256(",".join(sorted(known)).encode()).hexdigest()[:6]
    return Glossary(concepts, digest, known)


@lru_cache(maxsize=8)
def _cached(local: Path | None, data_dir: Path | None, stamp: float) -> Glossary:
    return load_glossary(local, data_dir)


def current_glossary(local: Path | None = None, data_dir: Path | None = None) -> Glossary:
    """``load_glossary``, cached until the local file changes."""
    stamp = local.stat().st_mtime_ns if local is not None and local.is_file() else 0
    return _cached(local, data_dir, stamp)


def add_term(local: Path, concept: str, language: str, term: str,
             gloss: str | None = None) -> None:
    """Add ``term`` in ``language`` (``fr``, ``es-CO``, ...) to ``concept`` in the
    deployment's glossary file, creating either; a new concept needs its ``gloss``."""
    if not _CONCEPT.match(concept):
        raise GlossaryError("a concept name is lower-case letters, digits and _, up to 64")
    if not _TAG.match(language):
        raise GlossaryError("a language is an ISO 639-1 code, optionally with a country "
                            "(fr, es-CO)")
    term = " ".join(term.split())
    if not _words(term) or len(term) > 80:
        raise GlossaryError("a term is 1 to 80 characters with at least one letter")
    raw = json.loads(local.read_text(encoding="utf-8")) if local.is_file() else {"concepts": {}}
    known = read_file(local) if local.is_file() else {}
    bundled = load_glossary().concepts
    if concept not in bundled and concept not in known and not gloss:
        raise GlossaryError(f"{concept!r} is a new concept: give its English gloss")
    entry = raw["concepts"].setdefault(concept, {"terms": {}})
    if gloss:
        entry["gloss"] = " ".join(gloss.split())[:120]
    words = entry.setdefault("terms", {}).setdefault(language, [])
    if term not in words:
        words.append(term)
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_suffix(local.suffix + ".tmp")
    tmp.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(local)
