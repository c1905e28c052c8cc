"""Tokenisation for lexical matching in English, French, Spanish, Portuguese and more."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import (
    STOPWORDS_EN_PLUS,
    STOPWORDS_FRENCH,
    STOPWORDS_PORTUGUESE,
    STOPWORDS_SPANISH,
)

_STEMMERS = {"en": "english", "fr": "french", "es": "spanish", "pt": "portuguese",
             "id": "indonesian", "ms": "indonesian", "it": "italian", "de": "german",
             "nl": "dutch", "ru": "russian"}
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


STOPWORDS = frozenset(_fold(w) for w in (
    *STOPWORDS_EN_PLUS, *STOPWORDS_FRENCH, *STOPWORDS_SPANISH, *STOPWORDS_PORTUGUESE))


@lru_cache(maxsize=16)
def _stemmer(lang: str):
    algorithm = _STEMMERS.get(lang)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def tokenize(text: str, lang: str = "en") -> list[str]:
    """Lower-cased, accent-folded, stop-word-free, stemmed (when the language has a stemmer)."""
    words = [_fold(w) for w in _WORD.findall(text.lower())]
    words = [w for w in words if w not in STOPWORDS]
    stemmer = _stemmer(lang)
    return stemmer.stemWords(words) if stemmer else words


def surface_words(text: str) -> dict[str, str]:
    """Map each stem-free folded word to its first surface form (for showing shared words)."""
    out: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        out.setdefault(_fold(word), word)
    return out
