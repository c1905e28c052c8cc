"""Text embedders and the vector cache: embed only what is new or changed."""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors. Subclasses load their model lazily."""

    name: str = ""
    description: str = ""
    languages: frozenset[str] | None = None  # None: multilingual; else the languages it serves
    # Candidates (offerings and practices) whose text is in none of these languages are not
    # embedded by this embedder: every scorer over its vectors speaks only for candidates in
    # them (the rest get the block's median), so their vectors would never count. Needs and
    # category prototypes are always embedded. None: every text.
    candidates_in: frozenset[str] | None = None

    @property
    def model_id(self) -> str:
        """Which model exactly (package and version, or local path): stored with each vector,
        so that a changed model behind the same name re-embeds. Must not load the model."""
        return self.name

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dim), float32, unit length."""

    def embed(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def embed_many(self, texts: Sequence[str], batch_size: int = 64, progress=None) -> np.ndarray:
        """Embed in batches; ``progress(n)`` is called after each batch."""
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start:start + batch_size])
            parts.append(_normalise(self.embed_batch(batch)))
            if progress:
                progress(len(batch))
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)


class ExpandedEmbedder(Embedder):
    """Another embedder that embeds each text with the glossary's glosses of its local terms
    (:meth:`matcher.glossary.Glossary.expand`). Its model id names the glossary's version, so a
    changed glossary re-embeds."""

    def __init__(self, inner: Embedder, expand, version: str):
        self.inner = inner
        self.name = inner.name
        self.description = inner.description
        self.languages = inner.languages
        self.candidates_in = inner.candidates_in
        self._expand = expand
        self._version = version

    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id}+glossary:{self._version}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_batch([self._expand(t) for t in texts])


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def embeds_candidate(embedder: Embedder, language: str) -> bool:
    """Whether ``embedder`` embeds an offering's or a practice's text in ``language``."""
    return embedder.candidates_in is None or language in embedder.candidates_in


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
