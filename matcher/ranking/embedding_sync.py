"""Which texts of the store have vectors, and embedding the ones that have none: in chunks
(an interrupted run keeps its work), or one record's text before it is written."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from matcher.language import detect_language
from matcher.ranking import categorize
from matcher.ranking.corpus import offering_text
from matcher.ranking.embeddings import Embedder, content_hash, embeds_candidate
from matcher.ranking.heal import EmbeddingStatus
from matcher.reference import Reference
from matcher.store import Store, Vector

SYNC_CHUNK = 256  # texts embedded and saved at a time
# The text each kind of record is embedded by, if any.
RECORD_TEXT: dict[str, Callable[[dict], str]] = {
    "needs": lambda r: r["text"], "practices": lambda r: r["text"], "offerings": offering_text}

Embed = Callable[[Embedder, list[str], bool], object]


class EmbeddingSync:
    """Keeps the vectors of a store's texts for a set of embedders."""

    def __init__(self, store: Store, ref: Reference, embedders: Callable[[], dict[str, Embedder]],
                 embed: Embed):
        self.store = store
        self.ref = ref
        self._embedders = embedders  # resolved lazily: no model loads before it is needed
        self._embed = embed
        self._lock = threading.Lock()
        self.running = False
        self.generation = 0  # bumped whenever vectors were saved by a sync
        self._status: tuple[tuple, int] | None = None

    def texts(self) -> list[str]:
        """Every text of the store that is embedded, and the category prototypes."""
        always, candidates = self._texts()
        return [*always, *candidates]

    def _texts(self) -> tuple[list[str], list[str]]:
        """The texts every embedder embeds (needs, prototypes), and the candidates' texts."""
        always = [n["text"] for n in self.store.needs()]
        always += [text for _, text in categorize.prototype_texts(self.ref)]
        candidates = [offering_text(o) for o in self.store.offerings()]
        candidates += [p["text"] for p in self.store.practices()]
        return always, candidates

    def missing(self) -> dict[str, dict[str, str]]:
        """Per embedder, the texts (by hash) that have no vector of its current model (nor the
        mark that it leaves them out: :attr:`Embedder.candidates_in`), shortest first."""
        return {name: {**embed, **mark} for name, (embed, mark) in self._plan().items()}

    def _plan(self) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
        """Per embedder, the texts to embed (shortest first: batches of like lengths) and the
        candidates' texts to mark as left out. Only texts it knows nothing of yet are looked
        at (their language told once: the mark remembers it)."""
        always, candidates = self._texts()
        out = {}
        for name, embedder in self._embedders().items():
            known = self.store.known_hashes(name, embedder.model_id)
            embed = {content_hash(t): t for t in always}
            if embedder.candidates_in is not None:  # a mark does not do for a need
                vectors = self.store.known_hashes(name, embedder.model_id, vectors_only=True)
                embed = {h: t for h, t in embed.items() if h not in vectors}
            else:
                embed = {h: t for h, t in embed.items() if h not in known}
            mark = {}
            for text in candidates:
                digest = content_hash(text)
                if digest in known or digest in embed:
                    continue
                if embedder.candidates_in is None or embeds_candidate(
                        embedder, detect_language(text)):
                    embed[digest] = text
                else:
                    mark[digest] = text
            out[name] = (dict(sorted(embed.items(), key=lambda item: len(item[1]))), mark)
        return out

    def sync(self, progress: bool = False, stop: threading.Event | None = None,
             step: Callable[[str, int, int], None] | None = None) -> int:
        """Embed every text without a vector, saving chunk by chunk; the count. Stops between
        chunks once ``stop`` is set. One sync at a time."""
        with self._lock:
            self.running = True
            try:
                return self._sync(progress, stop, step)
            finally:
                self.running = False

    def _sync(self, progress: bool, stop: threading.Event | None,
              step: Callable[[str, int, int], None] | None) -> int:
        total = marked = 0  # texts embedded (the count), texts marked as left out
        try:
            for name, (missing, marks) in self._plan().items():
                embedder = self._embedders()[name]
                if marks:  # left out on purpose: a vector of no dimension says so
                    self.store.save_vectors(name, list(marks), np.zeros((len(marks), 0)),
                                            embedder.model_id)
                    marked += len(marks)
                hashes, texts = list(missing), list(missing.values())
                if step and texts:
                    step(f"embedding ({name})", 0, len(texts))
                for start in range(0, len(texts), SYNC_CHUNK):
                    if stop is not None and stop.is_set():
                        return total
                    chunk = texts[start:start + SYNC_CHUNK]
                    vectors = self._embed(embedder, chunk, progress and len(chunk) > 32)
                    self.store.save_vectors(name, hashes[start:start + SYNC_CHUNK], vectors,
                                            embedder.model_id)
                    total += len(chunk)
                    if step:
                        step(f"embedding ({name})", start + len(chunk), len(texts))
            return total
        finally:
            if total or marked:
                self.generation += 1

    def status(self) -> EmbeddingStatus:
        """How many texts have no vector (each embedder counted), and whether a sync runs.
        Cached until the records or the vectors change."""
        key = (self.store.data_version(), self.store.vector_count(), self.generation)
        if self._status is None or self._status[0] != key:
            self._status = (key, sum(len(m) for m in self.missing().values()))
        missing = self._status[1]
        return EmbeddingStatus(missing, self.running and missing > 0)

    def vectors_of(self, table: str, record: BaseModel | dict) -> list[Vector]:
        """The vectors a record's text needs that are not stored yet, embedded now (before
        the write transaction: the model never runs under the write lock)."""
        text_of = RECORD_TEXT.get(table)
        if text_of is None:
            return []
        row = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
        text = text_of(row)
        digest = content_hash(text)
        out = []
        for name, embedder in self._embedders().items():
            if table != "needs" and embedder.candidates_in is not None \
                    and not embeds_candidate(embedder, detect_language(text)):
                if not self.store.known_hashes(name, embedder.model_id, among=[digest]):
                    out.append(Vector(name, digest, np.zeros(0, dtype=np.float32),
                                      embedder.model_id))  # the mark: left out on purpose
            elif not self.store.known_hashes(name, embedder.model_id, among=[digest],
                                             vectors_only=embedder.candidates_in is not None):
                out.append(Vector(name, digest, embedder.embed_many([text])[0],
                                  embedder.model_id))
        return out
