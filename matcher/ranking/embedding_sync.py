"""Which texts of the store have vectors, and embedding the ones that have none: in chunks
(an interrupted run keeps its work), or one record's text before it is written."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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
# A text to embed: (table, id, text, content hash); the category prototypes as ("prototypes",
# category). Needs and prototypes are "always" embedded, by every embedder.
Text = tuple[str, str, str, str]
ALWAYS = ("needs", "prototypes")
_AMONG = 500  # hashes per lookup


@dataclass(frozen=True)
class _Pending:
    """What :meth:`EmbeddingSync.status` last found: the texts still missing a vector of some
    embedder (with whose they are), at which data token, for which models, over how many
    stored vectors."""

    models: tuple
    token: str
    vector_count: int
    texts: tuple[Text, ...]


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
        self._pending: _Pending | None = None
        self._status_lock = threading.Lock()

    def texts(self) -> list[str]:
        """Every text of the store that is embedded, and the category prototypes."""
        return [text for _, _, text, _ in self._records()]

    def _records(self) -> list[Text]:
        """Every embedded text with whose it is: needs, prototypes, offerings, practices."""
        out = [("needs", n["id"], n["text"]) for n in self.store.text_fields("needs")]
        out += [("prototypes", c, t) for c, t in categorize.prototype_texts(self.ref)]
        out += [(table, r["id"], RECORD_TEXT[table](r)) for table in ("offerings", "practices")
                for r in self.store.text_fields(table)]
        return [(table, key, text, content_hash(text)) for table, key, text in out]

    def missing(self) -> dict[str, dict[str, str]]:
        """Per embedder, the texts (by hash) that have no vector of its current model (nor the
        mark that it leaves them out: :attr:`Embedder.candidates_in`), shortest first."""
        return {name: {**embed, **mark} for name, (embed, mark) in self._plan().items()}

    def _plan(self, texts: list[Text] | None = None
              ) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
        """Per embedder, the texts to embed (shortest first: batches of like lengths) and the
        candidates' texts to mark as left out. Only texts it knows nothing of yet are looked
        at (their language told once: the mark remembers it). ``texts``: only those are
        looked at (default: every text of the store)."""
        if texts is None:
            return self._plan_of(self._records(), None)
        return self._plan_of(texts, sorted({t[3] for t in texts}))

    def _plan_of(self, texts: list[Text], among: list[str] | None
                 ) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
        """:meth:`_plan` for ``texts``, looking up stored vectors ``among`` these hashes only
        (None: reading each embedder's whole list, for every text of the store)."""
        always = {digest: text for table, _, text, digest in texts if table in ALWAYS}
        candidates = {digest: text for table, _, text, digest in texts if table not in ALWAYS}
        out = {}
        for name, embedder in self._embedders().items():
            known = self._known(name, embedder.model_id, among)
            embed = dict(always)
            if embedder.candidates_in is not None:  # a mark does not do for a need
                vectors = self._known(name, embedder.model_id, among, vectors_only=True)
                embed = {h: t for h, t in embed.items() if h not in vectors}
            else:
                embed = {h: t for h, t in embed.items() if h not in known}
            mark = {}
            for digest, text in candidates.items():
                if digest in known or digest in embed:
                    continue
                if embedder.candidates_in is None or embeds_candidate(
                        embedder, detect_language(text)):
                    embed[digest] = text
                else:
                    mark[digest] = text
            out[name] = (dict(sorted(embed.items(), key=lambda item: len(item[1]))), mark)
        return out

    def _known(self, name: str, model: str, among: list[str] | None,
               vectors_only: bool = False) -> set[str]:
        if among is None:
            return self.store.known_hashes(name, model, vectors_only=vectors_only)
        known: set[str] = set()
        for start in range(0, len(among), _AMONG):
            known |= self.store.known_hashes(name, model, among=among[start:start + _AMONG],
                                             vectors_only=vectors_only)
        return known

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
            for name, (missing, marks) in self._plan(self._missing_texts()).items():
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
        Cached until the records or the vectors change; then only the texts missing before and
        the records written since are looked at again (the change log, m025), not every text
        of the store: ``/health`` asks this, and stays quick at 100,000 records."""
        with self._status_lock:
            self.store.corpus_tokens()  # made if missing (a write), before the read transaction
            with self.store.snapshot():
                tokens = self.store.corpus_tokens()
                count = self.store.vector_count()
                models = self._models()
                key = (tokens["data_token"], tokens["vectors_token"], count, self.generation,
                       models)
                if self._status is None or self._status[0] != key:
                    self._status = (key, self._count_missing(tokens["data_token"], count,
                                                             models))
        missing = self._status[1]
        return EmbeddingStatus(missing, self.running and missing > 0)

    @property
    def counted(self) -> bool:
        """Whether texts were counted (or a corpus told which may lack vectors)."""
        return self._pending is not None

    def seed(self, token: str, vector_count: int, texts: list[tuple[str, str, str]]) -> None:
        """What a corpus built at data token ``token`` over ``vector_count`` vectors found:
        only ``texts`` (table, id, text) may lack a vector. The first count then starts from
        them, not from every text of the store. Ignored once texts were counted."""
        with self._status_lock:
            if self._pending is None:
                self._pending = _Pending(self._models(), token, vector_count, tuple(
                    (table, key, text, content_hash(text)) for table, key, text in texts))

    def _missing_texts(self) -> list[Text]:
        """The texts that lack a vector of some embedder now: those :meth:`status` counts,
        brought up to date (a sync looks at these only, not at every text of the store)."""
        self.status()
        pending = self._pending
        return [] if pending is None else list(pending.texts)

    def _models(self) -> tuple:
        """Each embedder's name, model and the languages of the candidates it embeds."""
        return tuple((name, e.model_id, e.candidates_in) for name, e in self._embedders().items())

    def _count_missing(self, token: str, vector_count: int, models: tuple) -> int:
        """The texts without a vector, each embedder counted (within the caller's snapshot)."""
        texts, pending = None, self._pending
        if pending is not None and pending.models == models \
                and vector_count >= pending.vector_count:  # vectors gone: looked at again
            changes = self.store.corpus_changes(pending.token)
            if changes is not None:
                texts = self._since(pending.texts, changes)
        if texts is None:  # every text of the store, read once
            texts = self._records()
            plan = self._plan_of(texts, None)
        else:
            plan = self._plan(texts)
        lacking = {digest for embed, mark in plan.values() for digest in (*embed, *mark)}
        self._pending = _Pending(models, token, vector_count,
                                 tuple(t for t in texts if t[3] in lacking))
        return sum(len(embed) + len(mark) for embed, mark in plan.values())

    def _since(self, pending: Iterable[Text], changes: dict[str, set[str]]) -> list[Text]:
        """The texts missing before, less the records written since, and those records' texts
        now (a deleted record's text is gone)."""
        texts = [t for t in pending if t[1] not in changes.get(t[0], ())]
        for table, text_of in RECORD_TEXT.items():
            ids = changes.get(table)
            if ids:
                texts += [(table, row["id"], text_of(row), content_hash(text_of(row)))
                          for row in self.store.corpus_rows(table, ids)]
        return texts

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
