"""Lexical match: BM25 (bm25s) over stemmed, accent-folded words in the text's own language."""

from __future__ import annotations

import logging
from collections import Counter

import bm25s
import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.corpus import Block, Corpus
from matcher.ranking.scoring import Scorer, ScoringContext
from matcher.ranking.textproc import meaningful, stems_with_surface, tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)

# A shared word is a reason only when it is meaningful (matcher.ranking.textproc.meaningful)
# and found in at most this share of the block's texts (once the block has enough of them).
COMMON_SHARE, COMMON_MIN_DOCS = 0.2, 10
# (glossary digest, language, text) -> its tokens, per kind of block, as of its last build
_MEMO: dict[str, dict[tuple[str, str, str], list[str]]] = {}


class LexicalScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "lexical"
    label = N_("Words in common")
    weights = {"partner": 0.5, "peer": 0.1}  # measured on the dev benchmark (README)
    description = ("BM25 over stemmed words (en, fr, es, pt, id stemmers; accents folded) "
                   "and the ASM glossary's concepts")
    normalise = "zscore"

    def prepare(self, corpus: Corpus, block: Block):
        if not len(block):  # nothing to index (bm25s refuses an empty corpus)
            return {"index": None, "docs": [], "common": set()}
        # each text's tokens are kept until the next build of this kind of block: a rebuild
        # after a write tokenizes only the new or changed texts
        digest = corpus.glossary.digest if corpus.glossary else ""
        seen = _MEMO.get(block.kind, {})
        memo = {}
        for text, lang in zip(block.texts, block.languages):
            key = (digest, lang, text)
            memo[key] = seen[key] if key in seen else _tokens(corpus, text, lang)
        _MEMO[block.kind] = memo
        docs = [memo[(digest, lang, text)] or ["∅"]
                for text, lang in zip(block.texts, block.languages)]
        index = bm25s.BM25()
        index.index(docs, show_progress=False)
        sets = [set(d) for d in docs]
        counts = Counter(stem for doc in sets for stem in doc)
        # words in a large share of the candidates tell them apart from nothing: no reason
        common = {stem for stem, n in counts.items()
                  if len(sets) >= COMMON_MIN_DOCS and n > COMMON_SHARE * len(sets)}
        return {"index": index, "docs": sets, "common": common}

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
        return state["index"].get_scores(tokens)[ctx.candidates]

    def reasons(self, ctx, positions, scores):
        state = ctx.block.state[self.name]
        query = _per_corpus(ctx.corpus, "lexical_query_stems",
                            (ctx.query.need["text"], ctx.query.language), stems_with_surface)
        lang, common = ctx.query.language, state.get("common", set())
        out = []
        for p in positions:
            doc = state["docs"][ctx.candidates[p]]
            # only words that carry meaning: no numbers, no function words, in any language
            shared = [surface for stem, surface in query.items()
                      if stem in doc and stem not in common and meaningful(surface, lang)]
            out.append([_("shared words: {words}", ctx.ui_language, words=", ".join(shared[:4]))]
                       if shared else [])
        return out


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


def _tokens(corpus: Corpus, text: str, lang: str) -> list[str]:
    """The text's stemmed words, and one token per glossary concept it names: a need saying
    "azogue" shares the concept with an offering saying "mercury"."""
    words = tokenize(text, lang)
    return words + corpus.glossary.tokens(text) if corpus.glossary else words


@hookimpl
def register_scorers(register) -> None:
    register(LexicalScorer())
