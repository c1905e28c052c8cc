"""Tokenisation for lexical matching in English, French, Spanish, Portuguese and more."""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

_STEMMERS = {"en": "english", "fr": "french", "es": "spanish", "pt": "portuguese",
             "id": "indonesian", "ms": "indonesian", "it": "italian", "de": "german",
             "nl": "dutch", "ru": "russian"}
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def _library_module(package: str, relative_path: str):
    """A module of an installed library, run from its file without importing the library's
    package: scikit-learn's and bm25s's packages import about a second of other modules, and
    their stop-word lists import nothing."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0], relative_path)
    module_spec = importlib.util.spec_from_file_location(f"_{package}_{path.stem}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


_BM25S_STOPWORDS = _library_module("bm25s", "stopwords.py")


def _english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (the Glasgow IR group's list)."""
    return frozenset(_library_module(
        "sklearn", "feature_extraction/_stop_words.py").ENGLISH_STOP_WORDS)


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


STOPWORDS_EN_PLUS, STOPWORDS_FRENCH, STOPWORDS_SPANISH, STOPWORDS_PORTUGUESE = (
    _BM25S_STOPWORDS.STOPWORDS_EN_PLUS, _BM25S_STOPWORDS.STOPWORDS_FRENCH,
    _BM25S_STOPWORDS.STOPWORDS_SPANISH, _BM25S_STOPWORDS.STOPWORDS_PORTUGUESE)
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


# Words that say nothing of a text's subject, for the reasons shown to people (not for the
# index): scikit-learn's English list (function words, common verbs, English numbers) and
# bm25s's French, Spanish and Portuguese ones, plus the numbers spelled out in those three
# (no installed list has them).
_NUMBER_WORDS = (
    "un une deux trois quatre cinq six sept huit neuf dix onze douze vingt trente quarante "
    "cinquante soixante cent cents mille million millions premier premiere second seconde "
    "uno una dos tres cuatro cinco seis siete ocho nueve diez once doce veinte treinta "
    "cuarenta cincuenta cien ciento cientos mil millon millones primero primera segundo "
    "um uma dois duas quatro cinco sete oito nove dez onze doze vinte trinta quarenta "
    "cinquenta cem cento mil milhao milhoes primeiro primeira segunda").split()
# scikit-learn's list counts a few nouns this field uses in earnest (a mine, a ball mill, a
# loan's interest and amount): they stay meaningful.
_FIELD_NOUNS = frozenset({"mine", "mill", "interest", "amount", "system", "fire", "bill"})
_UNINFORMATIVE = frozenset(_fold(w) for w in (
    *_english_stop_words(), *STOPWORDS_EN_PLUS, *STOPWORDS_FRENCH, *STOPWORDS_SPANISH,
    *STOPWORDS_PORTUGUESE, *_NUMBER_WORDS)) - _FIELD_NOUNS


@lru_cache(maxsize=16)
def _uninformative_stems(lang: str) -> frozenset[str]:
    stemmer = _stemmer(lang)
    return frozenset(stemmer.stemWords(list(_UNINFORMATIVE))) if stemmer else frozenset()


@lru_cache(maxsize=65_536)  # asked for each shared word of each suggestion, every request
def meaningful(word: str, lang: str = "en") -> bool:
    """Whether ``word`` may be shown as a word two texts share: three letters or more, not a
    number, and neither it nor its stem a function word or a number word in en, fr, es or pt
    ("two", "getting", "deux" and "dos" are not; "pump" and "mercurio" are)."""
    folded = _fold(word.lower())
    if len(folded) < 3 or not folded.isalpha() or folded in _UNINFORMATIVE:
        return False
    stemmer = _stemmer(lang)
    stems = {stemmer.stemWord(folded)} if stemmer else set()
    english = _stemmer("en")
    stems.add(english.stemWord(folded))  # a need's English words amid another language
    return not stems & (_uninformative_stems(lang) | _uninformative_stems("en"))
