"""The engine: store -> embed -> filter -> score -> fuse -> explain, for needs and associations.

Knows nothing about HTTP. One ``Engine`` per process (it keeps the models and the corpus).
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pluggy
from pydantic import BaseModel

from matcher import gc_pause
from matcher.errors import InvalidInput, NotFound, NotReady
from matcher.glossary import Glossary, load_glossary
from matcher import language
from matcher.language import detect_language
from matcher.plugins import collect_scorers, get_embedder, get_plugin_manager
from matcher.process_lock import worker_lock
from matcher.ranking import categorize, corpus_cache, explain, filters
from matcher.ranking.calibration import Calibration, calibration_path, load_calibration
from matcher.ranking.corpus import Corpus, build_corpus, evidence_arrays, offering_text
from matcher.ranking.embedding_sync import EmbeddingSync
from matcher.ranking.embeddings import Embedder, ExpandedEmbedder, content_hash
from matcher.ranking.fusion import fuse
from matcher.ranking.fusion_model import FusionStatus, LearnedFusion
from matcher.ranking.heal import EmbeddingStatus, Healer
from matcher.ranking.scoring import (
    Query,
    RegisteredScorer,
    ScoringContext,
    default_weights,
    record_call,
    run_scorers,
)
from matcher.reference import UI_LANGUAGES, Reference, default_data_dir, load_reference
from matcher.settings import Settings, weight_problem
from matcher.store import Claim, Store
from matcher.vocabulary import KINDS
from matcher.workflow.sensitive import inferred_sensitive

log = logging.getLogger(__name__)

TOP_WINDOW = 10  # the per-partner cap applies within this many first suggestions


@dataclass
class Suggestion:
    """One ranked candidate with its score, each scorer's contribution and its reasons."""

    kind: str
    item_id: str  # offering id (partner) or practice id (peer)
    owner_id: str  # partner id or association id
    score: float
    contributions: dict[str, float]
    reasons: list[str]
    rules_passed: list[str]
    need_id: str
    title: str = ""
    owner_name: str = ""
    # What is suggested in a sentence or so (an offering's description, a practice's text
    # after its title), so that an association knows what it would accept.
    summary: str = ""
    # The probability that the pair is clearly relevant (grade >= 2), from the calibration
    # (matcher.ranking.calibration), and its word: strong, good, possible or weak. Unlike
    # ``score`` it means the same in every list. None only without a model for the kind.
    strength: float | None = None
    strength_label: str | None = None


@dataclass
class SuggestionList:
    need_id: str | None
    association_id: str
    kind: str
    suggestions: list[Suggestion]
    category: str | None = None
    category_confidence: float | None = None
    category_inferred: bool = False
    language: str | None = None
    failed_scorers: dict[str, str] = field(default_factory=dict)
    weak: bool = False  # no suggestion is at least "good" (an empty list is weak too)
    admissible: int = 0  # items that passed every hard rule for the need


class Engine:
    """Ranks offerings and peer practices for needs, from one store.

    ``embed_on_build``: embed every missing text before building the corpus (the command
    line, scripts). A server passes False: it builds from what is embedded, leaving out the
    records without vectors, and embeds the rest in the background (:meth:`heal`).
    """

    def __init__(self, settings: Settings, store: Store | None = None,
                 pm: pluggy.PluginManager | None = None, ref: Reference | None = None,
                 embed_on_build: bool = True):
        self.settings = settings
        self.store = store or Store(settings.db)
        self.pm = pm or get_plugin_manager()
        self.ref = ref or load_reference(settings.data_dir)
        self.embed_on_build = embed_on_build
        self._corpus: Corpus | None = None
        self._corpus_key: tuple[int, int, int] | None = None
        # what the last build learnt, reused by the next (a rebuild after a write redoes only
        # the new or changed texts): each text's language, the category models by training set
        self._languages: dict[str, str] = {}
        self._unsaved = 0  # records updated since the corpus file was last saved
        self._category_models: dict[str, object] = {}
        self._lock = threading.RLock()
        self._scorers: tuple[tuple, dict[str, RegisteredScorer]] | None = None
        self.vectors = EmbeddingSync(
            self.store, self.ref, lambda: self.embedders,
            lambda embedder, texts, show: _embed_with_progress(
                embedder, texts, self.settings.batch_size, show))
        self.healer = Healer(lambda stop: self.sync_embeddings(stop=stop),
                             lock=worker_lock(settings.local_files(), "embed",
                                               settings.workers))
        self.learned = LearnedFusion(self.store, settings.learn_min_decisions)

    @classmethod
    def for_server(cls, settings: Settings) -> Engine:
        """An engine for a threaded server: its store is opened with ``check_same_thread=False``
        (each thread reads through its own connection), and texts missing vectors are embedded
        in the background rather than on the first build (:meth:`heal`)."""
        return cls(settings, store=Store(settings.db, check_same_thread=False),
                   embed_on_build=False)

    # ------------------------------------------------------------------ parts
    @cached_property
    def glossary(self) -> Glossary:
        """The bundled ASM glossary with the deployment's own words (as read at start); the
        words of a language the primary embedder lacks are glossed like regional ones."""
        primary = get_embedder(self.pm, self.settings, self.primary_embedder)
        return load_glossary(self.settings.glossary_file(), self.settings.data_dir,
                             primary.languages)

    @cached_property
    def embedders(self) -> dict[str, Embedder]:
        """The configured embedders, each embedding texts with the glossary's glosses."""
        glossary = self.glossary
        return {name: ExpandedEmbedder(get_embedder(self.pm, self.settings, name),
                                       glossary.expand, glossary.digest)
                for name in self.settings.embedders}

    @cached_property
    def calibration(self) -> Calibration:
        """The strength models: the file named in settings, else ``calibration.json`` in the
        data folder, else the bundled one."""
        path = calibration_path(self.settings.calibration, self.ref.data_dir)
        if not self.settings.calibration and not path.is_file():
            path = calibration_path(None, default_data_dir())
        return load_calibration(path)

    @property
    def primary_embedder(self) -> str:
        return self.settings.embedders[0]

    @property
    def corpus_loaded(self) -> bool:
        """Whether the in-memory corpus (and so the models) has been built yet."""
        return self._corpus is not None

    def record_counts(self) -> dict[str, int]:
        """How many records of each kind the store holds, and vectors."""
        return self.store.counts()

    def close(self) -> None:
        """Stop the background embedding and close the store."""
        self.healer.stop()
        self.store.close()

    def scorers(self) -> dict[str, RegisteredScorer]:
        """The registered scorers; collected again only when the plugins' registration hooks
        change (collecting asks every plugin, which showed on every request's profile)."""
        key = tuple(self.pm.hook.register_scorers.get_hookimpls())  # held: compared by identity
        cached = self._scorers
        if cached is None or cached[0] != key:
            cached = self._scorers = (key, collect_scorers(self.pm))
        return cached[1]

    def hand_weights(self, kind: str) -> dict[str, float]:
        """The hand weights of ``kind``: each scorer's own default, then settings."""
        return self.settings.weights_for(kind, None, default_weights(self.scorers(), kind))

    def weights_for(self, kind: str, overrides: dict[str, float] | None = None
                    ) -> dict[str, float]:
        """Fusion weights for ``kind``: the weights learned from decisions when a model with
        enough of them is stored (:mod:`matcher.ranking.fusion_model`), else the hand
        weights; then the request's ``overrides``."""
        table = self.learned.weights(kind, self.hand_weights(kind))
        table.update(overrides or {})
        return table

    def fusion_status(self, kind: str) -> FusionStatus:
        """Which fusion ``kind`` uses now: hand weights, or learned (from how many decisions,
        when)."""
        return self.learned.status(kind)

    # ------------------------------------------------------------------ embeddings
    def sync_embeddings(self, progress: bool = False,
                        stop: threading.Event | None = None,
                        step: Callable[[str, int, int], None] | None = None) -> int:
        """Embed every text that has no vector yet for each configured embedder, saving as it
        goes; return the count. Stops early (between chunks) once ``stop`` is set. ``step``
        is told ``(step name, texts done, texts to do)`` at each embedder's start and chunk."""
        return self.vectors.sync(progress, stop, step)

    def heal(self) -> bool:
        """Embed the missing texts in a background thread (unless one runs); whether one
        started. The corpus is rebuilt once they are saved."""
        return self.healer.start()

    def embedding_status(self, count: bool = True) -> EmbeddingStatus | None:
        """How many texts have no vector (each embedder counted), and whether they are being
        embedded (here or by the background thread). Not ``count``: None unless counted
        before, or told by a corpus (a server starting: it reads no text meanwhile)."""
        if not count and not self.vectors.counted:
            return None
        status = self.vectors.status()
        return EmbeddingStatus(status.missing,
                               status.missing > 0 and (status.in_progress or self.healer.running))

    def create_record(self, table: str, record: BaseModel, parent_id: str | None = None,
                      claim: Claim | None = None) -> dict:
        """Embed the record's text, then write the record with its vectors (and the
        ``claim``) in one transaction; return it as stored. A retry under a ``claim`` used
        before returns the record that claim created, and writes nothing."""
        earlier = self.store.claimed(claim, table)
        if earlier is not None:
            return self.store.claimed_record(table, earlier)
        return self.store.create_record(table, record, parent_id, claim=claim,
                                        vectors=self.vectors.vectors_of(table, record))

    def update_record(self, table: str, record: BaseModel) -> dict:
        """Embed the record's new text, then write it with its vectors in one transaction."""
        return self.store.update_record(table, record,
                                        vectors=self.vectors.vectors_of(table, record))

    def vectors_for(self, name: str, texts: list[str]) -> np.ndarray:
        """Stored vectors of embedder ``name`` for ``texts`` (which must have been synced)."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self.store.load_vectors(name, [content_hash(t) for t in texts])

    # ------------------------------------------------------------------ corpus
    def corpus(self) -> Corpus:
        """The in-memory corpus for the store's current data version and vectors (rebuilt
        when either changes). Records without vectors are left out of it (see
        :meth:`embedding_status`); without ``embed_on_build``, their embedding starts.

        The version is read from the store on every call (one primary-key read of ``meta``,
        with the evidence version): a write through another process or another server over
        the same database reaches the very next suggestion, which pays the rebuild."""
        version, evidence = self.store.versions()
        if not self._fresh(version):
            with self._lock:
                if not self._fresh(self.store.data_version()):
                    if self.embed_on_build:
                        self.sync_embeddings()
                    key = (self.store.data_version(), self.vectors.generation,
                           self.store.vector_count())
                    with gc_pause.paused():
                        self._corpus = self._load_or_build()
                    self._corpus_key = key
                    self._tell_missing(self._corpus, key[2])
                    if self._corpus.extra["left_out"] and not self.embed_on_build:
                        self.heal()
        corpus = self._corpus
        if corpus.evidence_version != evidence:
            with self._lock:  # an outcome was recorded: the same corpus, fresh evidence
                if self._corpus.evidence_version != self.store.evidence_version():
                    self._corpus = _with_evidence(self._corpus, *self._read_evidence())
                corpus = self._corpus
        return corpus

    def _tell_missing(self, corpus: Corpus, vector_count: int) -> None:
        """Tell the count of texts still to embed what ``corpus`` found: only the records it
        left out for want of vectors (and the prototypes, looked at again) may lack one, so
        a first count needs not read every text (:meth:`EmbeddingSync.seed`)."""
        token = corpus.extra.get("data_token")
        if not token or self.vectors.counted:
            return
        texts = [(table, row["id"], _TEXTS[table](row))
                 for table, ids in corpus.extra.get("left_out_ids", {}).items() if ids
                 for row in self.store.corpus_rows(table, ids)]
        texts += [("prototypes", c, t) for c, t in categorize.prototype_texts(self.ref)]
        self.vectors.seed(token, vector_count, texts)

    def _read_evidence(self) -> tuple[int, dict[str, dict[tuple[str, str], dict[str, int]]]]:
        """The store's evidence of past exchanges per kind and item, and its version."""
        with self.store.snapshot():
            return self.store.evidence_version(), self.store.item_evidence()

    def _fresh(self, data_version: int) -> bool:
        """Whether the corpus is that of the data at ``data_version``. One that left records
        out for want of vectors is also stale once vectors came from elsewhere (another
        process), but not while this engine embeds: it is rebuilt once, when that is done."""
        if self._corpus is None or self._corpus_key is None:
            return False
        version, generation, count = self._corpus_key
        if (version, generation) != (data_version, self.vectors.generation):
            return False
        return (not self._corpus.extra["left_out"] or self.vectors.running
                or self.healer.running or count == self.store.vector_count())

    def warm_up(self) -> Corpus:
        """Make the corpus ready now (loaded from its file next to the database when one
        matches the data, else built and saved), so that the first suggestion does not wait
        for it: a server calls this at start, in the background, and says "starting" until
        :attr:`corpus_loaded`. What a first suggestion would load besides is loaded too (the
        strength models, the scorers, each UI language's names of countries). The language
        identifier, which only a new text needs, loads meanwhile in a thread of its own (0.3 s,
        mostly decompression, which leaves the GIL to the corpus's read)."""
        threading.Thread(target=language.load, name="language-model", daemon=True).start()
        for lang in UI_LANGUAGES:
            Reference.country_name("", lang)
        self.calibration
        self.scorers()
        return self.corpus()

    @cached_property
    def _cache_parts(self) -> dict:
        """What a cached corpus is made from, besides the data: models, glossary, reference
        data, scorers and the code that builds and prepares it."""
        scorers = {name: type(r.scorer).__module__ for name, r in self.scorers().items()}
        ref = self.ref
        return {
            "embedders": {name: [e.model_id, sorted(e.candidates_in or [])]
                          for name, e in self.embedders.items()},
            "primary": self.primary_embedder, "glossary": self.glossary.digest,
            "reference": corpus_cache.key_of({
                "categories": ref.categories, "regions": ref.regions,
                "countries": ref.countries, "commodities": ref.commodities}),
            "scorers": sorted(scorers),
            "code": corpus_cache.code_digest([
                *scorers.values(), __name__, "matcher.ranking.corpus", "matcher.ranking.categorize",
                "matcher.ranking.textproc", "matcher.ranking.embeddings", "matcher.language",
                "matcher.glossary", "matcher.ranking.corpus_cache"]),
            "versions": [np.__version__, *map(importlib.metadata.version,
                                              ("bm25s", "scikit-learn")), sys.version_info[:2]],
        }

    def _load_or_build(self) -> Corpus:
        """The corpus of the store's current data: from the file saved for exactly that data
        (and models, scorers, code) when there is a sound one; else the corpus this process
        has, or the newest file's, brought up to date with the records written since
        (:meth:`_update`); else built whole and saved."""
        folder = corpus_cache.cache_folder(self.settings.local_files())
        if folder is None:
            previous = self._corpus
            return (previous is not None and self._update(previous) or
                    self._build_corpus(previous))[0]
        corpus = self._load(folder)
        if corpus is not None:
            return corpus
        previous = self._corpus or self._load(folder, latest=True)
        updated = self._update(previous) if previous is not None else None
        if updated is not None:
            corpus, tokens = updated
            self._unsaved += corpus.extra["updated_records"]
            if self._unsaved >= SAVE_AFTER_RECORDS and _prepared(corpus):
                corpus_cache.save(folder, self._cache_key(tokens), corpus)
                self._unsaved = 0
            return corpus
        with corpus_cache.building(folder):  # another process may be building this one
            corpus = self._load(folder)
            if corpus is not None:
                return corpus
            corpus, tokens = self._build_corpus(previous)
            if _prepared(corpus):
                corpus_cache.save(folder, self._cache_key(tokens), corpus)
                self._unsaved = 0
        return corpus

    def save_corpus(self) -> Path | None:
        """Save the corpus of the current data to its file beside the database now, so that
        a process started next reads it as it is, with nothing to bring up to date (a server
        saves one by itself only once :data:`SAVE_AFTER_RECORDS` records were updated
        since); the file's path, or None when there is nowhere to save it."""
        folder = corpus_cache.cache_folder(self.settings.local_files())
        if folder is None:
            return None
        with self._lock:
            corpus = self.corpus()
            tokens = corpus.extra.get("cache_tokens")
            if not isinstance(tokens, dict) or not _prepared(corpus):
                return None
            path = corpus_cache.save(folder, self._cache_key(tokens), corpus)
            if path is not None:
                self._unsaved = 0
            return path

    def _load(self, folder, latest: bool = False) -> Corpus | None:
        """The corpus of the current data from its file, if there is a sound one; ``latest``:
        the newest file made by the same models, scorers and code, of whatever data."""
        if latest:
            corpus = corpus_cache.load_latest(folder, self._parts_key)
        else:
            corpus = corpus_cache.load(folder, self._cache_key(self.store.corpus_tokens()))
        if corpus is not None:
            corpus.ref, corpus.glossary = self.ref, self.glossary
            self._remember_languages(corpus)
            self._category_models = dict(corpus.extra.get("category_models", {}))
        return corpus

    def _language(self, text: str) -> str:
        """``detect_language``, remembered from one build to the next."""
        language = self._languages.get(text)
        if language is None:
            language = self._languages[text] = detect_language(text)
        return language

    def _remember_languages(self, corpus: Corpus) -> None:
        """Keep the languages of ``corpus``'s texts only (the memory follows the data)."""
        known = corpus.extra.get("need_languages", {})
        languages = {n["text"]: self._languages.get(n["text"]) or known.get(n["text"])
                     for n in corpus.needs.values()}
        languages = {t: lang for t, lang in languages.items() if lang is not None}
        for block in (corpus.offerings, corpus.practices):
            languages.update(zip(block.texts, block.languages))
        self._languages = languages

    @cached_property
    def _parts_key(self) -> str:
        return corpus_cache.key_of(self._cache_parts)

    def _cache_key(self, tokens: dict[str, str]) -> str:
        return f"{self._parts_key}-{corpus_cache.key_of({'data': tokens})}"

    def _build_corpus(self, previous: Corpus | None = None) -> tuple[Corpus, dict[str, str]]:
        """The corpus built from the store, and the store's tokens it was built from; the
        scorers reuse what they can of ``previous``'s state (:meth:`_prepare`)."""
        self.store.corpus_tokens()  # made if missing (a write), before the read transaction
        with self.store.snapshot():
            tokens = self.store.corpus_tokens()
            version = self.store.data_version()
            rows = {table: _Rows.read(self.store.corpus_rows(table)) for table in _TEXTS}
            partners, associations = self.store.partners(), self.store.associations()
            protos = categorize.prototype_texts(self.ref)
            evidence = self._read_evidence()
            found = self._vectors({t: r.records for t, r in rows.items()}, protos)
        corpus = self._assemble(version, tokens, partners, associations, rows, protos, found,
                                evidence, None)
        self._prepare(corpus, previous)
        self._remember_languages(corpus)
        return corpus, tokens

    def _update(self, previous: Corpus) -> tuple[Corpus, dict[str, str]] | None:
        """``previous`` brought up to the store's current data by reading only the needs,
        offerings and practices written since it was built (the change log, m025), and the
        records it left out for want of vectors; None when that cannot be done (the log does
        not reach back, partners or associations changed, or too much changed): build whole.
        The result is the corpus a whole build would give."""
        token = previous.extra.get("data_token")
        if not token:
            return None
        left_out = previous.extra.get("left_out_ids", {})
        self.store.corpus_tokens()
        with self.store.snapshot():
            tokens = self.store.corpus_tokens()
            changes = self.store.corpus_changes(token)
            if changes is None or set(changes) - set(_TEXTS):
                return None
            changed = {t: changes.get(t, set()) | set(left_out.get(t, ())) for t in _TEXTS}
            count = sum(map(len, changed.values()))
            size = len(previous.needs) + len(previous.offerings) + len(previous.practices)
            if count > max(UPDATE_MIN_RECORDS, UPDATE_SHARE * size):
                return None
            version = self.store.data_version()
            fresh = {t: self.store.corpus_rows(t, ids) for t, ids in changed.items()}
            protos = categorize.prototype_texts(self.ref)
            evidence = self._read_evidence()
            rows = {t: _Rows.merged(_previous_records(previous, t),
                                    previous.extra["row_order"][t], changed[t], fresh[t],
                                    _TEXTS[t])
                    for t in _TEXTS}
            found = self._vectors(fresh, protos)
        try:
            corpus = self._assemble(version, tokens, list(previous.partners.values()),
                                    list(previous.associations.values()), rows, protos, found,
                                    evidence, previous)
        except _Rebuild:
            return None
        corpus.extra["updated_records"] = count
        self._prepare(corpus, previous)
        self._remember_languages(corpus)
        return corpus, tokens

    def _vectors(self, records: dict[str, list[dict]], protos: list[tuple[str, str]]
                 ) -> dict[str, dict[str, np.ndarray]]:
        """Each embedder's stored vectors of the texts of ``records`` (by table) and of the
        prototypes."""
        hashes = [content_hash(_TEXTS[t](r)) for t in _TEXTS for r in records[t]]
        hashes += [content_hash(text) for _, text in protos]
        return {name: self.store.vectors_by_hash(name, hashes) for name in self.embedders}

    def _assemble(self, version: int, tokens: dict[str, str], partners: list[dict],
                  associations: list[dict], rows: dict[str, _Rows],
                  protos: list[tuple[str, str]], found: dict[str, dict[str, np.ndarray]],
                  evidence: tuple, previous: Corpus | None) -> Corpus:
        """The corpus of ``rows``: a record's vectors come from ``previous`` when it is
        unchanged there, else from ``found`` (a record some embedder has no vector for is
        left out, and read again by the next update)."""

        def embedded(text: str, candidate: bool = False) -> bool:
            """Whether each embedder has the text's vector (or, for an offering's or a
            practice's, the mark that it leaves it out: a vector of length 0)."""
            digest = content_hash(text)
            return all(digest in vectors and (candidate or len(vectors[digest]))
                       for vectors in found.values())

        kept, left_out_ids = {}, {}
        for table, text_of in _TEXTS.items():
            r = rows[table]
            keep = [i for i, record in enumerate(r.records)
                    if r.previous[i] >= 0 or embedded(text_of(record), table != "needs")]
            kept[table] = keep
            chosen = set(keep)
            left_out_ids[table] = [rec["id"] for i, rec in enumerate(r.records)
                                   if i not in chosen]
        needs, offerings, practices = ([rows[t].records[i] for i in kept[t]] for t in _TEXTS)
        protos = [(c, t) for c, t in protos if embedded(t)]
        earlier = None  # each candidate's position in previous when its record is the same
        if previous is not None:
            earlier = (previous, {_KINDS[t]: np.array(
                [p if p >= 0 and rows[t].records[i] is held[p] else -1
                 for i, p in ((i, rows[t].previous[i]) for i in kept[t])], dtype=np.int64)
                for t, held in ((t, _previous_records(previous, t)) for t in _KINDS)})
        corpus = build_corpus(version, self.ref, partners, offerings, associations, needs,
                              practices, detect=self._language, earlier=earlier)
        corpus.extra.update(
            left_out=sum(map(len, left_out_ids.values())), left_out_ids=left_out_ids,
            data_token=tokens["data_token"], cache_tokens=dict(tokens),
            row_order={t: np.array([rows[t].order[i] for i in kept[t]], dtype=np.int64)
                       for t in _TEXTS})
        corpus = _with_evidence(corpus, *evidence)
        corpus.glossary = self.glossary
        # each kept record's position in the previous corpus (-1: read now), and whether a
        # table is the previous one's, record for record
        sources = {t: np.array([rows[t].previous[i] for i in kept[t]], dtype=np.int64)
                   for t in _TEXTS}
        unchanged = {t: previous is not None and len(kept[t]) == len(
            _previous_records(previous, t)) and bool(np.array_equal(
                sources[t], np.arange(len(kept[t])))) for t in _TEXTS}

        def matrix(name: str, table: str) -> np.ndarray:
            """The vectors of the kept records of ``table``: zeros for a candidate the
            embedder leaves out (its scorers never read it: :attr:`Embedder.candidates_in`)."""
            r, keep, source = rows[table], kept[table], sources[table]
            vectors = found[name]
            reused = source >= 0
            old = _previous_matrix(previous, table, name) if reused.any() else None
            dim = next((len(v) for v in vectors.values() if len(v)),
                       old.shape[1] if old is not None else 1)
            if old is not None and old.shape[1] != dim:
                raise _Rebuild  # another model's vectors: built whole
            if old is not None and unchanged[table]:
                return old  # no record of the table changed: its matrix as it was
            out = np.empty((len(keep), dim), dtype=np.float32)
            out[~reused] = 0.0
            if old is not None:
                _copy_rows(out, np.flatnonzero(reused), old, source[reused])
            for j in np.flatnonzero(~reused).tolist():
                vector = vectors[content_hash(_TEXTS[table](r.records[keep[j]]))]
                if len(vector):
                    out[j] = vector
            return out

        for name in self.embedders:
            corpus.offerings.vectors[name] = matrix(name, "offerings")
            corpus.practices.vectors[name] = matrix(name, "practices")
            if unchanged["needs"]:
                corpus.need_vectors[name] = previous.need_vectors[name]
                continue
            need_matrix = matrix(name, "needs")
            corpus.need_vectors[name] = {n["id"]: need_matrix[i] for i, n in enumerate(needs)}
        self._attach_categories(corpus, needs, protos, lambda name: _stack(
            [found[name][content_hash(t)] for _, t in protos]),
            previous, sources if previous is not None else None)
        return corpus

    def _prepare(self, corpus: Corpus, previous: Corpus | None) -> None:
        """Each scorer's state for each block: from the ``previous`` corpus's state where the
        scorer can reuse it (:meth:`Scorer.prepare_again`), else prepared anew; a scorer that
        fails is left out of this corpus."""
        for registered in self.scorers().values():
            scorer = registered.scorer
            for kind in scorer.kinds & set(KINDS):
                block = corpus.block(kind)
                old = previous.block(kind) if previous is not None else None
                state = old.state.get(scorer.name) if old is not None else None
                try:
                    if state is not None and state is not _PREPARE_FAILED:
                        block.state[scorer.name] = scorer.prepare_again(corpus, block, old,
                                                                        state)
                    else:
                        block.state[scorer.name] = scorer.prepare(corpus, block)
                except Exception:
                    log.exception("scorer %s failed to prepare; it will be left out", scorer.name)
                    block.state[scorer.name] = _PREPARE_FAILED
                    record_call(scorer.name, "could not prepare")

    def _attach_categories(self, corpus: Corpus, needs: list[dict], protos: list[tuple[str, str]],
                           proto_matrix, previous: Corpus | None = None,
                           sources: dict[str, np.ndarray] | None = None) -> None:
        """Train the category model on the exchange's own labels; infer the missing ones.

        The primary embedder's model infers the texts in its languages; a text in a language
        it lacks is inferred by a model over a multilingual embedder's vectors, when one is
        configured (Swahili or Tagalog with the Universal Sentence Encoder).

        Given the ``previous`` corpus and each kept record's position in it (``sources``), a
        record whose text was unlabelled there and still is keeps its probabilities when the
        models are the same: only new or changed texts are inferred."""
        name = self.primary_embedder
        n_cat = len(corpus.categories)
        need_labels = categorize.labels(corpus, [n["category"] for n in needs])
        proto_labels = categorize.labels(corpus, [c for c, _ in protos])
        models, trained, keys = {}, {}, {}
        for embedder in {name, self._fallback_embedder() or name}:
            # trained once, reused while the labelled texts stay the same (a write to an
            # offering's availability or to an unlabelled text does not retrain)
            key = keys[embedder] = categorize.training_key(embedder, n_cat, [
                (corpus.offerings.texts, corpus.offerings.category),
                (corpus.practices.texts, corpus.practices.category),
                ([n["text"] for n in needs], need_labels), ([t for _, t in protos], proto_labels)])
            model = self._category_models.get(key)
            if model is None:
                need_vecs = _stack([corpus.need_vectors[embedder][n["id"]] for n in needs])
                model = categorize.train(*categorize.training_set(
                    corpus, embedder, need_vecs, need_labels, proto_matrix(embedder),
                    proto_labels), n_cat)
            models[embedder] = trained[key] = model
        self._category_models = trained
        corpus.extra["category_models"] = trained  # read back with the corpus from its file
        corpus.extra["category_model"] = models[name]
        corpus.extra["category_keys"] = keys
        same = (previous is not None and sources is not None
                and previous.extra.get("category_keys") == keys)

        def probabilities(labels: np.ndarray, language: Callable[[int], str],
                          vectors: Callable[[str, np.ndarray], np.ndarray],
                          earlier: tuple[np.ndarray, np.ndarray, np.ndarray] | None
                          ) -> np.ndarray:
            """Certainty where a category is given; else the previous corpus's values (rows
            at ``earlier[0]``, with its labels and values) where the row was unlabelled
            there too; else inferred from ``vectors(embedder, rows)``."""
            probs = np.zeros((len(labels), n_cat))
            todo = labels < 0
            if same and earlier is not None:
                source, old_labels, old_probs = earlier
                reuse = todo & (source >= 0)
                reuse[reuse] = old_labels[source[reuse]] < 0
                probs[reuse] = old_probs[source[reuse]]
                todo &= ~reuse
            rows = np.flatnonzero(todo)
            chosen = np.array([self._embedder_for(language(i)) for i in rows.tolist()])
            for embedder, model in models.items():
                mine = rows[chosen == embedder] if len(rows) else rows
                if len(mine):
                    probs[mine] = model.predict_proba(vectors(embedder, mine))
            return categorize.with_given(probs, labels)

        languages = [self._language(n["text"]) for n in needs]
        corpus.extra["need_languages"] = dict(zip((n["text"] for n in needs), languages))
        earlier = None
        if previous is not None and sources is not None:
            held = [previous.extra["need_category"][i] for i in previous.needs]
            earlier = (sources["needs"], np.array([0 if given else -1 for _, given in held]),
                       np.array([p for p, _ in held]).reshape(len(held), n_cat))
        probs = probabilities(need_labels, languages.__getitem__, lambda e, rows: _stack(
            [corpus.need_vectors[e][needs[i]["id"]] for i in rows.tolist()]), earlier)
        corpus.extra["need_category"] = {n["id"]: (probs[i], need_labels[i] >= 0)
                                         for i, n in enumerate(needs)}
        self._raise_inferred_sensitive(corpus, needs)
        practices = corpus.practices
        earlier = None if previous is None or sources is None else (
            sources["practices"], previous.practices.category,
            previous.practices.arrays["category_probs"])
        practices.arrays["category_probs"] = probabilities(
            practices.category, practices.languages.__getitem__,
            lambda e, rows: practices.vectors[e][rows], earlier)
        corpus.offerings.arrays["category_probs"] = categorize.with_given(
            np.zeros((len(corpus.offerings), n_cat)), corpus.offerings.category)

    def _fallback_embedder(self) -> str | None:
        """A configured multilingual embedder (one with no language list) other than the
        primary, when the primary has a language list."""
        if self.embedders[self.primary_embedder].languages is None:
            return None
        return next((name for name, e in self.embedders.items()
                     if name != self.primary_embedder and e.languages is None), None)

    def _embedder_for(self, language: str) -> str:
        """The embedder whose category model infers a text in ``language``."""
        languages = self.embedders[self.primary_embedder].languages
        if languages is None or language in languages:
            return self.primary_embedder
        return self._fallback_embedder() or self.primary_embedder

    # ------------------------------------------------------------------ suggestions
    def query(self, need_id: str, corpus: Corpus | None = None) -> Query:
        corpus = corpus or self.corpus()
        need = corpus.needs.get(need_id)
        if need is None and self.store.get("needs", need_id) is not None:
            raise NotReady(f"need {need_id!r} is not embedded yet; try again shortly")
        if need is None:
            raise NotFound(f"no need with id {need_id!r}")
        probs, given = corpus.extra["need_category"][need_id]
        return Query(
            need=need,
            association=corpus.associations[need["association_id"]],
            language=corpus.extra.get("need_languages", {}).get(need["text"])
            or detect_language(need["text"]),  # detected when the corpus was made
            category_probs=probs,
            category_given=bool(given),
            vectors={name: corpus.need_vectors[name][need_id] for name in self.embedders},
        )

    def need_category(self, need_id: str) -> tuple[str, float, bool]:
        """The need's category, its confidence, and whether it was inferred.

        Infers with the corpus's category model as it is, without rebuilding the corpus for
        a write that came since (a create's answer must not wait for a rebuild): a need the
        corpus does not hold yet, or holds with an older text, is inferred from its stored
        vector (NotReady while it has none)."""
        need = self.store.get("needs", need_id)
        if need is None:
            raise NotFound(f"no need with id {need_id!r}")
        corpus = self._corpus if self._corpus is not None else self.corpus()
        if need["category"] in corpus.categories.index:
            return need["category"], 1.0, False
        probs = self._inferred_probs(corpus, need)
        best = int(np.argmax(probs))
        return list(corpus.categories.index)[best], float(probs[best]), True

    def _inferred_probs(self, corpus: Corpus, need: dict) -> np.ndarray:
        """The probability of each category for an unlabelled need, by ``corpus``'s model
        (from its stored vector when the corpus does not hold its current text)."""
        held = corpus.needs.get(need["id"])
        if held is not None and held["text"] == need["text"] and not held["category"]:
            return corpus.extra["need_category"][need["id"]][0]
        digest = content_hash(need["text"])
        vector = self.store.vectors_by_hash(self.primary_embedder, [digest]).get(digest)
        if vector is None:
            raise NotReady(f"need {need['id']!r} is not embedded yet; try again shortly")
        return corpus.extra["category_model"].predict_proba(vector[None, :])[0]

    def is_sensitive(self, need_id: str) -> bool:
        """Whether the need is confidential: a stored fact that only rises (see
        :mod:`matcher.workflow.sensitive`). A need with no flag and no topic is first checked
        against the current inference, which raises it if it finds it sensitive (building the
        corpus does the same for every need); one not embedded yet counts as confidential."""
        need = self.store.get("needs", need_id)
        if need is None:
            raise NotFound(f"no need with id {need_id!r}")
        if need["confidential"] or need["sensitive"] is not None or need["category"]:
            return bool(need["confidential"])
        corpus = self._corpus if self._corpus is not None else self.corpus()
        try:
            probs = self._inferred_probs(corpus, need)
        except NotReady:
            return True  # not inferred yet: cautious
        if inferred_sensitive(probs, list(corpus.categories.index)):
            self.store.raise_confidential([need_id], actor="engine", role="system",
                                          note="topic inferred: a sensitive topic")
            return True
        return False

    def _raise_inferred_sensitive(self, corpus: Corpus, needs: list[dict]) -> None:
        """Store as confidential every unflagged need the inference puts on a sensitive
        topic; a later inference never lowers it."""
        names = list(corpus.categories.index)
        raised = [n["id"] for n in needs
                  if not n["confidential"] and n["sensitive"] is None and not n["category"]
                  and inferred_sensitive(corpus.extra["need_category"][n["id"]][0], names)]
        if raised:
            self.store.raise_confidential(raised, actor="engine", role="system",
                                          note="topic inferred: a sensitive topic")

    def suggest(self, need_id: str, kind: str = "partner", limit: int = 10,
                weights: dict[str, float] | None = None, lang: str = "en",
                explained: bool = True, only: Sequence[str] | None = None) -> SuggestionList:
        """Ranked, explained suggestions of ``kind`` for one need. Not ``explained``: the best
        ``limit`` by score with their strength only (no reasons, no cap per partner), for
        matching many needs at once. ``only``: among these items alone (those that pass the
        hard rules), to explain pairs already chosen."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
        if limit < 1:
            raise InvalidInput("limit must be at least 1", field="limit")
        corpus = self.corpus()  # once: each look at its freshness is a read of the store
        query = self.query(need_id, corpus)
        block = corpus.block(kind)
        rules = self.hard_rules(need_id, kind, corpus, query)
        candidates = filters.allowed(rules)
        if only is not None:
            wanted = [block.position[i] for i in only if i in block.position]
            candidates = np.intersect1d(candidates, np.array(wanted, dtype=candidates.dtype))
        table = self.weights_for(kind, weights)
        bad = [name for name, value in table.items() if weight_problem(value)]
        if bad:
            raise InvalidInput(f"{weight_problem(table[bad[0]])}: {', '.join(bad)}",
                               field="weights")
        registered = self.scorers()
        active = {name: r.scorer for name, r in registered.items()
                  if kind in r.scorer.kinds and table.get(name, 0.0) != 0.0
                  and block.state.get(name) is not _PREPARE_FAILED}
        ctx = ScoringContext(corpus, kind, query, candidates, ui_language=lang,
                             threads=self.settings.scoring_threads)
        run = run_scorers(active, ctx, self.settings.scorer_budget_ms) if len(candidates) \
            else None
        failed = dict(run.failed) if run else {}
        failed.update({name: "failed to prepare" for name, r in registered.items()
                       if kind in r.scorer.kinds and block.state.get(name) is _PREPARE_FAILED})
        if run is None:
            return self._result(query, kind, [], failed, corpus)
        total, contributions = fuse(run.scores, active, table, len(candidates))
        if explained:
            chosen = _diversify(total, candidates, block, kind, limit,
                                self.settings.max_per_partner)
            suggestions = self._explain(ctx, chosen, total, contributions, run.scores, active,
                                        rules)
        else:
            chosen = _diversify(total, candidates, block, "", limit, 0)
            suggestions = [_bare(block.records[int(candidates[p])], kind, float(total[p]),
                                 need_id) for p in chosen]
        strengths = self.calibration.strengths(
            ctx, chosen, run, {name: r.scorer for name, r in registered.items()
                               if block.state.get(name) is not _PREPARE_FAILED},
            self.settings.scorer_budget_ms)
        if strengths is not None:
            for suggestion, strength in zip(suggestions, strengths, strict=True):
                suggestion.strength = round(float(strength), 4)
                suggestion.strength_label = self.calibration.label(suggestion.strength)
        result = self._result(query, kind, suggestions, failed, corpus)
        result.admissible = len(candidates)
        return result

    def hard_rules(self, need_id: str, kind: str = "partner", corpus: Corpus | None = None,
                   query: Query | None = None) -> dict[str, np.ndarray]:
        """For each hard rule, a boolean array over the ``kind`` block: True where the item
        passes it for this need now (capacity, rejected pairs and those its association marked
        not interested included)."""
        corpus = corpus or self.corpus()
        association = (query or self.query(need_id, corpus)).association
        return filters.rules_for(corpus, kind, association,
                                 *self.store.rule_facts(need_id, kind))

    def needs_for_offering(self, offering_id: str, need_ids: Sequence[str] | None = None,
                           lang: str = "en") -> list[Suggestion]:
        """The needs this offering could serve now (it passes every hard rule for them), each
        as the offering's suggestion for that need, strongest first. ``need_ids``: among these
        needs only."""
        corpus = self.corpus()
        position = corpus.offerings.position.get(offering_id)
        if position is None:
            raise NotFound(f"no offering with id {offering_id!r}")
        used = self.store.capacity_used()
        admitted: dict[str, bool] = {}  # association -> whether its needs pass the rules
        found = []
        for need_id in (corpus.needs if need_ids is None else need_ids):
            need = corpus.needs.get(need_id)
            if need is None:
                continue
            aid = need["association_id"]
            if aid not in admitted:
                rules = filters.rules_for(corpus, "partner", corpus.associations[aid], used)
                admitted[aid] = bool(all(mask[position] for mask in rules.values()))
            if admitted[aid]:
                result = self.suggest(need_id, "partner", limit=1, lang=lang, only=[offering_id])
                found.extend(result.suggestions)
        return sorted(found, key=lambda s: (-(s.strength if s.strength is not None else 0.0),
                                            -s.score, s.need_id))

    def suggest_for_association(self, association_id: str, kind: str = "partner",
                                limit: int = 10, weights: dict[str, float] | None = None,
                                lang: str = "en") -> SuggestionList:
        """Suggestions across all of an association's needs, each candidate once (best need);
        needs not embedded yet are left out (``/health`` counts them)."""
        corpus = self.corpus()
        if association_id not in corpus.associations:
            raise NotFound(f"no association with id {association_id!r}")
        best: dict[str, Suggestion] = {}
        failed: dict[str, str] = {}
        for need in self.store.needs(association_id):
            if need["id"] not in corpus.needs:
                continue
            result = self.suggest(need["id"], kind, limit, weights, lang)
            failed.update(result.failed_scorers)
            for s in result.suggestions:
                if s.item_id not in best or s.score > best[s.item_id].score:
                    best[s.item_id] = s
        ranked = sorted(best.values(), key=lambda s: -s.score)
        if kind == "partner":
            order = _capped_order([s.owner_id for s in ranked], self.settings.max_per_partner)
            ranked = [ranked[i] for i in order]
        return SuggestionList(None, association_id, kind, ranked[:limit], failed_scorers=failed,
                              weak=self._weak(ranked[:limit]))

    def _result(self, query: Query, kind: str, suggestions: list[Suggestion],
                failed: dict[str, str], corpus: Corpus) -> SuggestionList:
        category = corpus.categories
        names = list(category.index)
        return SuggestionList(
            need_id=query.need["id"], association_id=query.association["id"], kind=kind,
            suggestions=suggestions, category=names[query.category],
            category_confidence=round(query.category_confidence, 3),
            category_inferred=not query.category_given, language=query.language,
            failed_scorers=failed, weak=self._weak(suggestions),
        )

    def _weak(self, suggestions: list[Suggestion]) -> bool:
        """Whether no suggestion is at least ``good`` (by strength)."""
        good = self.calibration.good
        return not any(s.strength is not None and s.strength >= good for s in suggestions)

    def _explain(self, ctx: ScoringContext, chosen: list[int], total: np.ndarray,
                 contributions: dict[str, np.ndarray], raw: dict[str, np.ndarray],
                 active: dict, rules: dict[str, np.ndarray]) -> list[Suggestion]:
        corpus, kind, query = ctx.corpus, ctx.kind, ctx.query
        block = ctx.block
        scorer_reasons: dict[str, list[list[str]]] = {}
        for name, scorer in active.items():
            if name not in raw:
                continue
            try:
                scorer_reasons[name] = scorer.reasons(ctx, chosen, raw[name])
            except Exception:
                log.exception("scorer %s failed to explain", name)
        out = []
        for rank, pos in enumerate(chosen):
            index = int(ctx.candidates[pos])
            record = block.records[index]
            parts = sorted(((name, float(c[pos])) for name, c in contributions.items()),
                           key=lambda item: -item[1])
            reasons = [r for name, _ in parts if name in scorer_reasons
                       for r in scorer_reasons[name][rank]]
            if kind == "partner":
                partner = corpus.partners[record["partner_id"]]
                extra = explain.eligibility_reasons(corpus, query.association, record,
                                                    ctx.ui_language)
                owner, owner_name, title = partner["id"], partner["name"], record["title"]
                summary = explain.summary_of(record.get("description") or "")
            else:
                other = corpus.associations[record["association_id"]]
                extra = explain.peer_reasons(corpus, query.association, other, ctx.ui_language)
                owner, owner_name, title = other["id"], other["name"], _headline(record["text"])
                summary = explain.summary_of(record["text"], skip=title)
            out.append(Suggestion(
                kind=kind, item_id=record["id"], owner_id=owner, score=round(float(total[pos]), 4),
                contributions={name: round(value, 4) for name, value in parts},
                reasons=explain.merge(reasons, extra),
                rules_passed=[name for name, mask in rules.items() if mask[index]],
                need_id=query.need["id"], title=title, owner_name=owner_name, summary=summary,
            ))
        return out


_PREPARE_FAILED = object()

# The tables whose records the corpus ranks, and each record's text.
_TEXTS: dict[str, Callable[[dict], str]] = {
    "needs": lambda record: record["text"], "offerings": offering_text,
    "practices": lambda record: record["text"]}
# An update reads the changed records only while they are at most this many, or this share
# of the corpus; beyond, a whole build is as quick. A corpus brought up to date is saved to
# its file once this many records were updated since the last save (a new process then has
# less to update).
UPDATE_MIN_RECORDS, UPDATE_SHARE = 200, 0.2
SAVE_AFTER_RECORDS = 500


class _Rebuild(Exception):
    """An update met what only a whole build handles."""


@dataclass
class _Rows:
    """One table's records in insertion order: each one's place in that order, and the
    position in the previous corpus of the record whose text (so vectors) it has: its own
    (-1: a new or changed text, read from the store now)."""

    records: list[dict]
    order: list[int]
    previous: list[int]

    @classmethod
    def read(cls, rows: list[dict]) -> _Rows:
        """Rows from :meth:`Store.corpus_rows`, all read now."""
        order = [row.pop("row_order") for row in rows]
        return cls(rows, order, [-1] * len(rows))

    @classmethod
    def merged(cls, records: list[dict], order: np.ndarray, changed: set[str],
               fresh: list[dict], text_of: Callable[[dict], str]) -> _Rows:
        """The previous ``records`` (at ``order``) without the ``changed`` ids, and the
        ``fresh`` rows of those still there, in insertion order. A fresh row whose text is
        its previous record's keeps that record's position (and so its vectors: a write to
        an offering's availability or regions copies no matrix)."""
        items = [(int(place), record, i) for i, (record, place) in
                 enumerate(zip(records, order.tolist())) if record["id"] not in changed]
        was = {record["id"]: i for i, record in enumerate(records) if record["id"] in changed}
        for row in fresh:
            i = was.get(row["id"], -1)
            same = i >= 0 and text_of(records[i]) == text_of(row)
            items.append((row.pop("row_order"), row, i if same else -1))
        items.sort(key=lambda item: item[0])
        return cls([r for _, r, _ in items], [o for o, _, _ in items],
                   [p for _, _, p in items])


# The block of each table of candidates.
_KINDS = {"offerings": "partner", "practices": "peer"}


def _previous_records(corpus: Corpus, table: str) -> list[dict]:
    if table == "needs":
        return list(corpus.needs.values())
    return corpus.block(_KINDS[table]).records


def _copy_rows(out: np.ndarray, to: np.ndarray, old: np.ndarray, rows: np.ndarray) -> None:
    """``out[to] = old[rows]``, by slices where both run on consecutively (after a few
    writes, nearly all of them: a copy of memory rather than a gather row by row)."""
    if not len(to):
        return
    breaks = np.flatnonzero((np.diff(to) != 1) | (np.diff(rows) != 1)) + 1
    if len(breaks) > 1000:  # scattered: one gather
        out[to] = old[rows]
        return
    for start, end in zip([0, *breaks.tolist()], [*breaks.tolist(), len(to)], strict=True):
        out[to[start]:to[start] + end - start] = old[rows[start]:rows[start] + end - start]


def _previous_matrix(corpus: Corpus | None, table: str, name: str) -> np.ndarray | None:
    """The vectors of ``table``'s records in ``corpus``, by ``name`` (rows as its records)."""
    if corpus is None:
        return None
    if table == "needs":
        vectors = corpus.need_vectors.get(name)
        return _stack(list(vectors.values())) if vectors else None
    return corpus.block(_KINDS[table]).vectors.get(name)


def _prepared(corpus: Corpus) -> bool:
    """Whether every scorer prepared its state (a corpus missing one is not saved)."""
    return not any(state is _PREPARE_FAILED for block in (corpus.offerings, corpus.practices)
                   for state in block.state.values())


def _with_evidence(corpus: Corpus, version: int,
                   found: dict[str, dict[tuple[str, str], dict[str, int]]]) -> Corpus:
    """``corpus`` with each block's evidence from ``found`` (kind -> (item id, category) ->
    counts): a new corpus sharing everything else, so that a request under way keeps the one
    it has."""
    blocks = {kind: replace(corpus.block(kind), evidence=evidence_arrays(
                  corpus.block(kind), corpus.categories, found.get(kind, {})))
              for kind in KINDS}
    return replace(corpus, offerings=blocks["partner"], practices=blocks["peer"],
                   evidence_version=version)


def _bare(record: dict, kind: str, score: float, need_id: str) -> Suggestion:
    """A suggestion with no reasons: the item, its owner and its score."""
    owner = record["partner_id"] if kind == "partner" else record["association_id"]
    return Suggestion(kind=kind, item_id=record["id"], owner_id=owner, score=round(score, 4),
                      contributions={}, reasons=[], rules_passed=[], need_id=need_id)


def _stack(vectors: list[np.ndarray]) -> np.ndarray:
    return np.vstack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)


def _headline(text: str, width: int = 90) -> str:
    first = text.split(". ")[0]
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def _capped_order(owners: list[str], max_per_owner: int) -> list[int]:
    """Positions of a best-first list with at most ``max_per_owner`` items of one owner among
    the first ``TOP_WINDOW``; the rest follow in order, but only once that window is full (a
    shorter list is better than a top ten crowded by one partner)."""
    window: list[int] = []
    per_owner: dict[str, int] = {}
    for i, owner in enumerate(owners):
        if len(window) == TOP_WINDOW:
            break
        if per_owner.get(owner, 0) < max_per_owner:
            per_owner[owner] = per_owner.get(owner, 0) + 1
            window.append(i)
    if len(window) < TOP_WINDOW:
        return window
    taken = set(window)
    return window + [i for i in range(len(owners)) if i not in taken]


def _diversify(total: np.ndarray, candidates: np.ndarray, block, kind: str, limit: int,
               max_per_owner: int) -> list[int]:
    """Positions (into ``candidates``) best first; for partners, capped per partner."""
    # Only the head of the ranking can enter the capped window: bound the work to it.
    depth = limit if kind != "partner" else max(limit, TOP_WINDOW) + TOP_WINDOW * 20
    if depth < len(total):
        head = np.argpartition(-total, depth)[:depth]
        head = head[np.lexsort((head, -total[head]))]  # best first, ties by position
    else:
        head = np.argsort(-total, kind="stable")
    if kind != "partner":
        return [int(p) for p in head[:limit]]

    def capped(count: int) -> list[int]:
        return _capped_order([block.records[int(candidates[p])]["partner_id"]
                              for p in head[:count]], max_per_owner)

    # The first items of the capped order depend only on the head's first owners: a prefix
    # usually settles them; the whole head only when it does not (one partner crowds it).
    order = capped(4 * max(limit, TOP_WINDOW))
    if len(order) < limit:
        order = capped(len(head))
    return [int(head[i]) for i in order[:limit]]


def _embed_with_progress(embedder: Embedder, texts: list[str], batch_size: int,
                         show: bool) -> np.ndarray:
    if not show:
        return embedder.embed_many(texts, batch_size)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(f"embedding with {embedder.name}", total=len(texts))
        return embedder.embed_many(texts, batch_size, progress=lambda n: bar.advance(task, n))
