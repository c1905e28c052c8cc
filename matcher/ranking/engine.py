"""The engine: store -> embed -> filter -> score -> fuse -> explain, for needs and associations.

Knows nothing about HTTP. One ``Engine`` per process (it keeps the models and the corpus).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pluggy

from matcher.errors import InvalidInput, NotFound
from matcher.language import detect_language
from matcher.plugins import collect_scorers, get_embedder, get_plugin_manager
from matcher.ranking import categorize, explain, filters
from matcher.ranking.corpus import Corpus, build_corpus, offering_text
from matcher.ranking.embeddings import Embedder, content_hash
from matcher.ranking.fusion import fuse
from matcher.ranking.scoring import (
    Query,
    RegisteredScorer,
    ScoringContext,
    default_weights,
    record_call,
    run_scorers,
)
from matcher.reference import Reference, load_reference
from matcher.settings import Settings, weight_problem
from matcher.store import Store
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


class Engine:
    """Ranks offerings and peer practices for needs, from one store."""

    def __init__(self, settings: Settings, store: Store | None = None,
                 pm: pluggy.PluginManager | None = None, ref: Reference | None = None):
        self.settings = settings
        self.store = store or Store(settings.db)
        self.pm = pm or get_plugin_manager()
        self.ref = ref or load_reference(settings.data_dir)
        self._corpus: Corpus | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ parts
    @cached_property
    def embedders(self) -> dict[str, Embedder]:
        return {name: get_embedder(self.pm, self.settings, name) for name in self.settings.embedders}

    @property
    def primary_embedder(self) -> str:
        return self.settings.embedders[0]

    @property
    def corpus_loaded(self) -> bool:
        """Whether the in-memory corpus (and so the models) has been built yet."""
        return self._corpus is not None

    def scorers(self) -> dict[str, RegisteredScorer]:
        return collect_scorers(self.pm)

    def weights_for(self, kind: str, overrides: dict[str, float] | None = None
                    ) -> dict[str, float]:
        """Fusion weights for ``kind``: each scorer's own default, then settings, then the
        request's ``overrides``."""
        return self.settings.weights_for(kind, overrides,
                                         default_weights(self.scorers(), kind))

    # ------------------------------------------------------------------ embeddings
    def _texts(self) -> list[str]:
        texts = [n["text"] for n in self.store.needs()]
        texts += [offering_text(o) for o in self.store.offerings()]
        texts += [p["text"] for p in self.store.practices()]
        texts += [text for _, text in categorize.prototype_texts(self.ref)]
        return texts

    def sync_embeddings(self, progress: bool = False) -> int:
        """Embed every text that has no vector yet for each configured embedder; return count."""
        texts = self._texts()
        total = 0
        for name, embedder in self.embedders.items():
            model = embedder.model_id
            known = self.store.known_hashes(name, model)
            missing = {content_hash(t): t for t in texts if content_hash(t) not in known}
            if not missing:
                continue
            hashes, batch = list(missing), list(missing.values())
            vectors = _embed_with_progress(embedder, batch, self.settings.batch_size,
                                           progress and len(batch) > 32)
            self.store.save_vectors(name, hashes, vectors, model)
            total += len(batch)
        return total

    def vectors_for(self, name: str, texts: list[str]) -> np.ndarray:
        """Stored vectors of embedder ``name`` for ``texts`` (which must have been synced)."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self.store.load_vectors(name, [content_hash(t) for t in texts])

    # ------------------------------------------------------------------ corpus
    def corpus(self) -> Corpus:
        """The in-memory corpus for the store's current data version (rebuilt when it changes)."""
        version = self.store.data_version()
        if self._corpus is not None and self._corpus.version == version:
            return self._corpus
        with self._lock:
            if self._corpus is None or self._corpus.version != self.store.data_version():
                self._corpus = self._build_corpus()
        return self._corpus

    def _build_corpus(self) -> Corpus:
        self.sync_embeddings()
        version = self.store.data_version()
        needs = self.store.needs()
        corpus = build_corpus(version, self.ref, self.store.partners(), self.store.offerings(),
                              self.store.associations(), needs, self.store.practices())
        for name in self.embedders:
            corpus.offerings.vectors[name] = self.vectors_for(name, corpus.offerings.texts)
            corpus.practices.vectors[name] = self.vectors_for(name, corpus.practices.texts)
            corpus.need_vectors[name] = {
                n["id"]: v for n, v in zip(needs, self.vectors_for(name, [n["text"] for n in needs]))
            }
        self._attach_categories(corpus, needs)
        for registered in self.scorers().values():
            scorer = registered.scorer
            for kind in scorer.kinds & set(KINDS):
                block = corpus.block(kind)
                try:
                    block.state[scorer.name] = scorer.prepare(corpus, block)
                except Exception:
                    log.exception("scorer %s failed to prepare; it will be left out", scorer.name)
                    block.state[scorer.name] = _PREPARE_FAILED
                    record_call(scorer.name, "could not prepare")
        return corpus

    def _attach_categories(self, corpus: Corpus, needs: list[dict]) -> None:
        """Train the category model on the exchange's own labels; infer the missing ones."""
        name = self.primary_embedder
        protos = categorize.prototype_texts(self.ref)
        n_cat = len(corpus.categories)
        need_vecs = _stack([corpus.need_vectors[name][n["id"]] for n in needs])
        need_labels = categorize.labels(corpus, [n["category"] for n in needs])
        x, y = categorize.training_set(corpus, name, need_vecs, need_labels,
                                       self.vectors_for(name, [t for _, t in protos]),
                                       categorize.labels(corpus, [c for c, _ in protos]))
        model = categorize.train(x, y, n_cat)
        corpus.extra["category_model"] = model
        probs = categorize.with_given(model.predict_proba(need_vecs), need_labels)
        corpus.extra["need_category"] = {n["id"]: (probs[i], need_labels[i] >= 0)
                                         for i, n in enumerate(needs)}
        self._raise_inferred_sensitive(corpus, needs)
        corpus.practices.arrays["category_probs"] = categorize.with_given(
            model.predict_proba(corpus.practices.vectors[name]), corpus.practices.category)
        corpus.offerings.arrays["category_probs"] = categorize.with_given(
            np.zeros((len(corpus.offerings), n_cat)), corpus.offerings.category)

    # ------------------------------------------------------------------ suggestions
    def query(self, need_id: str) -> Query:
        corpus = self.corpus()
        need = corpus.needs.get(need_id)
        if need is None:
            raise NotFound(f"no need with id {need_id!r}")
        probs, given = corpus.extra["need_category"][need_id]
        return Query(
            need=need,
            association=corpus.associations[need["association_id"]],
            language=detect_language(need["text"]),
            category_probs=probs,
            category_given=bool(given),
            vectors={name: corpus.need_vectors[name][need_id] for name in self.embedders},
        )

    def need_category(self, need_id: str) -> tuple[str, float, bool]:
        """The need's category, its confidence, and whether it was inferred."""
        query = self.query(need_id)
        names = list(self.corpus().categories.index)
        return names[query.category], query.category_confidence, not query.category_given

    def is_sensitive(self, need_id: str) -> bool:
        """Whether the need is confidential: a stored fact that only rises (see
        :mod:`matcher.workflow.sensitive`). A need with no flag and no topic is first checked against
        the current inference (building the corpus raises every need it finds sensitive)."""
        need = self.store.get("needs", need_id)
        if need is None:
            raise NotFound(f"no need with id {need_id!r}")
        if need["confidential"] or need["sensitive"] is not None or need["category"]:
            return bool(need["confidential"])
        if need_id not in self.corpus().needs:
            return True  # not inferred yet: cautious
        need = self.store.get("needs", need_id)
        return bool(need is None or need["confidential"])

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
                weights: dict[str, float] | None = None, lang: str = "en") -> SuggestionList:
        """Ranked, explained suggestions of ``kind`` for one need."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
        if limit < 1:
            raise InvalidInput("limit must be at least 1", field="limit")
        corpus = self.corpus()
        query = self.query(need_id)
        block = corpus.block(kind)
        rules = self.hard_rules(need_id, kind)
        candidates = filters.allowed(rules)
        table = self.weights_for(kind, weights)
        bad = [name for name, value in table.items() if weight_problem(value)]
        if bad:
            raise InvalidInput(f"{weight_problem(table[bad[0]])}: {', '.join(bad)}",
                               field="weights")
        registered = self.scorers()
        active = {name: r.scorer for name, r in registered.items()
                  if kind in r.scorer.kinds and table.get(name, 0.0) != 0.0
                  and block.state.get(name) is not _PREPARE_FAILED}
        ctx = ScoringContext(corpus, kind, query, candidates, ui_language=lang)
        run = run_scorers(active, ctx, self.settings.scorer_budget_ms) if len(candidates) \
            else None
        failed = dict(run.failed) if run else {}
        failed.update({name: "failed to prepare" for name, r in registered.items()
                       if kind in r.scorer.kinds and block.state.get(name) is _PREPARE_FAILED})
        if run is None:
            return self._result(query, kind, [], failed)
        total, contributions = fuse(run.scores, active, table, len(candidates))
        chosen = _diversify(total, candidates, block, kind, limit, self.settings.max_per_partner)
        suggestions = self._explain(ctx, chosen, total, contributions, run.scores, active, rules)
        return self._result(query, kind, suggestions, failed)

    def hard_rules(self, need_id: str, kind: str = "partner") -> dict[str, np.ndarray]:
        """For each hard rule, a boolean array over the ``kind`` block: True where the item
        passes it for this need now (capacity and rejected pairs included)."""
        corpus = self.corpus()
        association = self.query(need_id).association
        used = self.store.capacity_used() if kind == "partner" else None
        return filters.rules_for(corpus, kind, association, used,
                                 self.store.rejected_items(need_id, kind))

    def suggest_for_association(self, association_id: str, kind: str = "partner",
                                limit: int = 10, weights: dict[str, float] | None = None,
                                lang: str = "en") -> SuggestionList:
        """Suggestions across all of an association's needs, each candidate once (best need)."""
        corpus = self.corpus()
        if association_id not in corpus.associations:
            raise NotFound(f"no association with id {association_id!r}")
        best: dict[str, Suggestion] = {}
        failed: dict[str, str] = {}
        for need in self.store.needs(association_id):
            result = self.suggest(need["id"], kind, limit, weights, lang)
            failed.update(result.failed_scorers)
            for s in result.suggestions:
                if s.item_id not in best or s.score > best[s.item_id].score:
                    best[s.item_id] = s
        ranked = sorted(best.values(), key=lambda s: -s.score)
        if kind == "partner":
            order = _capped_order([s.owner_id for s in ranked], self.settings.max_per_partner)
            ranked = [ranked[i] for i in order]
        return SuggestionList(None, association_id, kind, ranked[:limit], failed_scorers=failed)

    def _result(self, query: Query, kind: str, suggestions: list[Suggestion],
                failed: dict[str, str]) -> SuggestionList:
        category = self.corpus().categories
        names = list(category.index)
        return SuggestionList(
            need_id=query.need["id"], association_id=query.association["id"], kind=kind,
            suggestions=suggestions, category=names[query.category],
            category_confidence=round(query.category_confidence, 3),
            category_inferred=not query.category_given, language=query.language,
            failed_scorers=failed,
        )

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
            else:
                other = corpus.associations[record["association_id"]]
                extra = explain.peer_reasons(corpus, query.association, other, ctx.ui_language)
                owner, owner_name, title = other["id"], other["name"], _headline(record["text"])
            out.append(Suggestion(
                kind=kind, item_id=record["id"], owner_id=owner, score=round(float(total[pos]), 4),
                contributions={name: round(value, 4) for name, value in parts},
                reasons=explain.merge(reasons, extra),
                rules_passed=[name for name, mask in rules.items() if mask[index]],
                need_id=query.need["id"], title=title, owner_name=owner_name,
            ))
        return out


_PREPARE_FAILED = object()


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
    owners = [block.records[int(candidates[p])]["partner_id"] for p in head]
    return [int(head[i]) for i in _capped_order(owners, max_per_owner)[:limit]]


def _embed_with_progress(embedder: Embedder, texts: list[str], batch_size: int,
                         show: bool) -> np.ndarray:
    if not show:
        return embedder.embed_many(texts, batch_size)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(f"embedding with {embedder.name}", total=len(texts))
        return embedder.embed_many(texts, batch_size, progress=lambda n: bar.advance(task, n))
