"""Lexical match: BM25 (bm25s) over stemmed, accent-folded words in the text's own language."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.corpus import Block, Corpus
from matcher.ranking.scoring import Scorer, ScoringContext
from matcher.ranking.textproc import meaningful, stems_with_surface, tokenize

# A shared word is a reason only when it is meaningful (matcher.ranking.textproc.meaningful)
# and found in at most this share of the block's texts (once the block has enough of them).
COMMON_SHARE, COMMON_MIN_DOCS = 0.2, 10
EMPTY = "∅"  # the token of a text without words (bm25s refuses an empty document)


class LexicalScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "lexical"
    label = N_("Words in common")
    weights = {"partner": 0.5, "peer": 0.1}  # measured on the dev benchmark (README)
    description = ("BM25 over stemmed words (en, fr, es, pt, id stemmers; accents folded) "
                   "and the ASM glossary's concepts")
    normalise = "zscore"

    def prepare(self, corpus: Corpus, block: Block):
        """The BM25 index of the block's texts, and each text's tokens as ids into its
        vocabulary (one flat array and offsets: no Python object per text, so the state is
        quick to save, to read back and to reuse)."""
        return self._index(corpus, block, {})

    def prepare_again(self, corpus: Corpus, block: Block, previous: Block, state):
        """Unchanged texts keep their tokens (only new or changed texts are tokenized); the
        same texts keep the whole index."""
        digest = _glossary_digest(corpus)
        if not isinstance(state, dict) or state.get("glossary") != digest:
            return self.prepare(corpus, block)
        if previous.texts == block.texts and previous.languages == block.languages:
            return state
        return self._index(corpus, block, _known_tokens(previous, state))

    def _index(self, corpus: Corpus, block: Block, known: dict[tuple[str, str], list[str]]):
        digest = _glossary_digest(corpus)
        if not len(block):  # nothing to index (bm25s refuses an empty corpus)
            return {"index": None, "glossary": digest, "ids": np.zeros(0, np.int32),
                    "offsets": np.zeros(1, np.int64), "common": frozenset()}
        docs = []
        for text, lang in zip(block.texts, block.languages):
            tokens = known.get((lang, text))
            docs.append(tokens if tokens is not None else (_tokens(corpus, text, lang) or [EMPTY]))
        index = Postings.of_texts(docs)
        vocab = index.vocab_dict
        ids = np.fromiter((vocab[t] for doc in docs for t in doc), dtype=np.int32)
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(doc) for doc in docs], out=offsets[1:])
        # words in a large share of the candidates tell them apart from nothing: no reason
        common: frozenset[str] = frozenset()
        if len(docs) >= COMMON_MIN_DOCS:
            rows = np.repeat(np.arange(len(docs), dtype=np.int64), np.diff(offsets))
            pairs = np.unique(rows * len(vocab) + ids)  # each (text, token) once
            frequency = np.bincount(pairs % len(vocab), minlength=len(vocab))
            names = _vocabulary(vocab)
            common = frozenset(names[i] for i in np.flatnonzero(
                frequency > COMMON_SHARE * len(docs)))
        return {"index": index, "glossary": digest, "ids": ids, "offsets": offsets,
                "common": common}

    def _query_tokens(self, ctx: ScoringContext) -> list[str]:
        return _per_corpus(ctx.corpus, "lexical_query_tokens", (ctx.query.need["text"],
                           ctx.query.language), lambda text, lang: _tokens(ctx.corpus, text,
                                                                            lang))

    def score(self, ctx: ScoringContext) -> np.ndarray:
        state = ctx.block.state[self.name]
        if state["index"] is None:
            return np.zeros(len(ctx.candidates))
        tokens = [t for t in self._query_tokens(ctx) if t in state["index"].vocab_dict]
        if not tokens:
            return np.zeros(len(ctx.candidates))
        return state["index"].scores(tokens)[ctx.candidates]

    def reasons(self, ctx, positions, scores):
        state = ctx.block.state[self.name]
        query = _per_corpus(ctx.corpus, "lexical_query_stems",
                            (ctx.query.need["text"], ctx.query.language), stems_with_surface)
        lang, common = ctx.query.language, state.get("common", set())
        out = []
        if state["index"] is None:
            return [[] for _ in positions]
        vocab, ids, offsets = state["index"].vocab_dict, state["ids"], state["offsets"]
        # only words that carry meaning: no numbers, no function words, in any language
        wanted = [(surface, vocab[stem]) for stem, surface in query.items()
                  if stem not in common and stem in vocab and meaningful(surface, lang)]
        for p in positions:
            row = int(ctx.candidates[p])
            doc = set(ids[offsets[row]:offsets[row + 1]].tolist())
            shared = [surface for surface, token in wanted if token in doc]
            out.append([_("shared words: {words}", ctx.ui_language, words=", ".join(shared[:4]))]
                       if shared else [])
        return out


@dataclass(frozen=True, eq=False)
class Postings:
    """What scoring needs of a bm25s index: its vocabulary and each token's postings. The
    index object itself is not kept, so that a process reading a saved corpus does not import
    bm25s (and numba with it: about 0.3 s of a server's start)."""

    vocab_dict: dict[str, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    num_docs: int

    @classmethod
    def of_texts(cls, docs: list[list[str]]) -> Postings:
        """BM25 (bm25s's default, Lucene's variant) over the documents' tokens."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        index = bm25s.BM25()
        index.index(docs, show_progress=False)
        assert index.nonoccurrence_array is None  # Lucene's variant scores present tokens only
        scores = index.scores
        return cls(index.vocab_dict, scores["indptr"], scores["indices"], scores["data"],
                   int(scores["num_docs"]))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """bm25s's ``get_scores(tokens)``, the same values, several times sooner: a token's
        postings hold each document once, so one indexed add per token sums what bm25s sums
        with ``np.add.at`` (3 ms at 100,000 documents against 0.4 ms), in the same order and
        type."""
        scores = np.zeros(self.num_docs, dtype=self.data.dtype)
        for token in tokens:
            i = self.vocab_dict.get(token)
            if i is not None and i + 1 < len(self.indptr):  # the vocabulary also holds ""
                start, end = self.indptr[i], self.indptr[i + 1]
                scores[self.indices[start:end]] += self.data[start:end]
        return scores


PER_CORPUS_CACHE = 10_000  # needs' texts remembered per corpus (one entry per need, often)


def _per_corpus(corpus: Corpus, name: str, key: tuple[str, str], make):
    """``make(*key)``, remembered in the corpus (it depends on the corpus's glossary): the
    same need's words are worked out once, not on every request."""
    cache = corpus.extra.get(name)
    if cache is None or len(cache) > PER_CORPUS_CACHE:
        cache = corpus.extra[name] = {}
    found = cache.get(key)
    if found is None:
        found = cache[key] = make(*key)
    return found


def _glossary_digest(corpus: Corpus) -> str:
    return corpus.glossary.digest if corpus.glossary else ""


def _vocabulary(vocab: dict[str, int]) -> list[str]:
    """The tokens by id."""
    names = [""] * len(vocab)
    for token, i in vocab.items():
        names[i] = token
    return names


def _known_tokens(block: Block, state: dict) -> dict[tuple[str, str], list[str]]:
    """Each text's tokens in a state :meth:`LexicalScorer.prepare` made for ``block``."""
    if state.get("index") is None:
        return {}
    names = _vocabulary(state["index"].vocab_dict)
    words = [names[i] for i in state["ids"].tolist()]
    offsets = state["offsets"].tolist()
    return {(lang, text): words[offsets[i]:offsets[i + 1]]
            for i, (text, lang) in enumerate(zip(block.texts, block.languages))}


def _tokens(corpus: Corpus, text: str, lang: str) -> list[str]:
    """The text's stemmed words, and one token per glossary concept it names: a need saying
    "azogue" shares the concept with an offering saying "mercury"."""
    words = tokenize(text, lang)
    return words + corpus.glossary.tokens(text) if corpus.glossary else words


@hookimpl
def register_scorers(register) -> None:
    register(LexicalScorer())
