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


@lru_cache(maxsize=200_000)
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


def stems_with_surface(text: str, lang: str = "en") -> dict[str, str]:
    """Each token of ``tokenize(text, lang)`` mapped to the first word it came from."""
    out: dict[str, str] = {}
    words = [w for w in _WORD.findall(text.lower()) if _fold(w) not in STOPWORDS]
    for word, stem in zip(words, tokenize(" ".join(words), lang)):
        out.setdefault(stem, word)
    return out
