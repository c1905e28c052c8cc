"""Language identification of short texts (py3langid, its model ships in the package)."""

from __future__ import annotations

import threading
from functools import lru_cache

# Languages the network writes in; identification is restricted to them to stay reliable.
KNOWN_LANGUAGES = ("en", "fr", "es", "pt", "sw", "id", "tl", "ms", "ru", "ar", "zh", "hi", "ur",
                   "mn", "ky", "si", "mg", "am", "de", "it", "nl")

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(KNOWN_LANGUAGES))
    return identifier


def load() -> None:
    """Load the identifier's model now (about 0.3 s, mostly decompression), not at the first
    text; whatever identifies a language meanwhile waits for it."""
    with _lock:
        _identifier()


@lru_cache(maxsize=100_000)
def detect_language(text: str) -> str:
    """The ISO 639-1 code of ``text``'s language ('en' when it cannot tell)."""
    if not text.strip():
        return "en"
    with _lock:
        lang, _ = _identifier().classify(text)
    return lang
