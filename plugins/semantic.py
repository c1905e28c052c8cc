"""Semantic similarity: cosine between the need's and the candidate's sentence embeddings,
corrected for hubness.

Some candidates (generic offerings such as a record-keeping app) sit close to almost every need
in embedding space and crowd every list. CSLS (Conneau et al., 2018) subtracts from the cosine
each candidate's mean similarity to its ``HUB_K`` nearest needs, so a candidate ranks high for
the needs it is specifically close to, not for being close to everything.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.ma  # noqa: F401  np.median imports it at its first call: here, not in a request

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.corpus import Block, Corpus
from matcher.ranking.embeddings import content_hash
from matcher.ranking.scoring import Scorer, ScoringContext
from plugins.embedders import USE_LANGUAGES

HUB_K = 10
HUB_ROWS = 2048  # candidates per block of the hub computation (2048 x 10,000 needs: 80 MB)
# rows_dot: above this share of the matrix's rows one pass over all of them is quicker; below
# it, rows are gathered this many at a time into a buffer that stays in the CPU's cache while
# it is multiplied (at 100,000 candidates half the time of gathering them all at once).
# Measured on one core at 100,000 x 512: a full pass 14 ms, a gather of 30 % of the rows 11 ms,
# of 40 % 15 ms.
FULL_PASS_SHARE = 0.4
GATHER_ROWS = 192


def rows_dot(matrix: np.ndarray, rows: np.ndarray, vector: np.ndarray,
             split: Callable[..., None] | None = None) -> np.ndarray:
    """``matrix[rows] @ vector`` without copying every row out at once: below
    :data:`FULL_PASS_SHARE` exactly those values, above it those of ``(matrix @ vector)[rows]``
    (BLAS may round a few rows' last bit differently between the two). ``split``
    (:meth:`ScoringContext.split_rows`) may share a large pass between threads: each row's
    value is the same whichever thread computes it."""
    split = split or (lambda n, work, align=1: work(0, n))
    dtype = np.result_type(matrix, vector)
    if len(rows) > FULL_PASS_SHARE * len(matrix):
        if matrix.dtype != dtype or vector.dtype != dtype:
            return (matrix @ vector)[rows]
        every = np.empty(len(matrix), dtype=dtype)
        split(len(matrix), lambda a, b: np.dot(matrix[a:b], vector, out=every[a:b]),
              GATHER_ROWS)
        return every[rows]
    if len(rows) <= GATHER_ROWS or matrix.dtype != dtype or vector.dtype != dtype:
        return matrix[rows] @ vector
    out = np.empty(len(rows), dtype=dtype)

    def gather(first: int, stop: int) -> None:
        buffer = np.empty((GATHER_ROWS, matrix.shape[1]), dtype=dtype)
        for start in range(first, stop, GATHER_ROWS):
            chunk = rows[start:min(start + GATHER_ROWS, stop)]
            part = buffer[:len(chunk)]
            # mode="clip": with the default "raise", numpy copies through a buffer of
            # its own first, which cost as much again as the copy (rows are valid)
            np.take(matrix, chunk, axis=0, out=part, mode="clip")
            np.dot(part, vector, out=out[start:start + len(chunk)])

    split(len(rows), gather, GATHER_ROWS)
    return out


class SemanticScorer(Scorer):
    """Hubness-corrected cosine similarity of unit vectors from one embedder.

    ``languages``: the languages the model knows (an English-only model, or the multilingual
    encoder's 16). The scorer then speaks only for needs in those languages, and candidates in
    other languages get the block's median (no opinion).
    ``needs_in``: the scorer speaks only for needs in those languages, about every candidate.
    ``beyond``: the scorer speaks only for the needs another model does not cover: needs
    outside those languages, about every candidate. (Speaking also for the few candidates
    outside them under a need inside them was measured: against a block of medians their
    z-scores explode, and peer nDCG@5 fell by 0.10.)
    ``kinds``: the tracks it scores (default both).
    """

    inline = True  # a few numpy passes: run in the request's thread

    normalise = "zscore"

    def __init__(self, name: str, embedder: str, description: str, *, label: str = "",
                 public_label: str = "", weights: dict[str, float] | None = None,
                 languages: frozenset[str] | None = None, explains: bool = True,
                 needs_in: frozenset[str] | None = None,
                 beyond: frozenset[str] | None = None,
                 kinds: frozenset[str] | None = None):
        self.name = name
        self.label = label
        self.public_label = public_label
        self.weights = weights or {}
        self.explains = explains
        self.embedder = embedder
        self.description = description
        self.languages = languages
        self.needs_in = needs_in
        self.beyond = beyond
        if kinds is not None:
            self.kinds = kinds

    def speaks_for(self, language: str) -> bool:
        """Whether the scorer has an opinion for a need in ``language``."""
        return ((self.languages is None or language in self.languages)
                and (self.needs_in is None or language in self.needs_in)
                and (self.beyond is None or language not in self.beyond))

    def prepare(self, corpus: Corpus, block: Block) -> dict[str, object]:
        """Each candidate's hub score, and which candidates are in this scorer's languages."""
        return self._state(corpus, block, None, None)

    def prepare_again(self, corpus: Corpus, block: Block, previous: Block, state):
        """Hub scores brought up to date (:func:`hub_state`) rather than computed anew."""
        old = state.get("hub_state") if isinstance(state, dict) else None
        return self._state(corpus, block, previous, old, reuse=state if isinstance(
            state, dict) and "own_rows" in state else None)

    def _state(self, corpus: Corpus, block: Block, previous: Block | None,
               old: dict | None, reuse: dict | None = None) -> dict[str, object]:
        in_languages = np.array([self.languages is None or lang in self.languages
                                 for lang in block.languages], dtype=bool)
        hubs = hub_state(corpus, block, self.embedder, previous, old)
        state = {"hub": hubs["hub"], "hub_state": hubs, "in_languages": in_languages}
        matrix = block.vectors.get(self.embedder)
        if (reuse is not None and previous is not None and matrix is not None
                and previous.vectors.get(self.embedder) is matrix
                and np.array_equal(reuse["in_languages"], in_languages)):
            # the same matrix and languages: its own rows as they were (no copy)
            state["own_rows"], state["own_row"] = reuse["own_rows"], reuse["own_row"]
        elif self.languages is not None and matrix is not None:
            # the rows of its languages, together: a request reads those alone, in one pass
            # (the block's matrix has zeros between them: MiniLM's is 3/4 zeros at 100k)
            state["own_rows"] = np.ascontiguousarray(matrix[in_languages])
            state["own_row"] = np.cumsum(in_languages) - 1  # a candidate's row in it
        return state

    def _cosine(self, ctx: ScoringContext, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine of the query with ``rows`` of the block (default: every candidate)."""
        matrix = ctx.block.vectors.get(self.embedder)
        if matrix is None:
            raise LookupError(f"no vectors from embedder {self.embedder!r} (see settings.embedders)")
        query = ctx.query.vectors[self.embedder]
        return rows_dot(matrix, ctx.candidates if rows is None else rows, query, ctx.split_rows)

    def score(self, ctx: ScoringContext) -> np.ndarray:
        n = len(ctx.candidates)
        if not self.speaks_for(ctx.query.language):
            return np.zeros(n)
        state = ctx.block.state[self.name]
        if self.languages is None:
            return self._cosine(ctx) - state["hub"][ctx.candidates]
        # only the candidates in the model's languages are compared (the others' vectors are
        # zeros or meaningless to it: reading them would be wasted); the rest get their median
        ours = state["in_languages"][ctx.candidates]
        if not ours.any():
            return np.zeros(n)
        rows = ctx.candidates[ours]
        if "own_rows" in state:
            cosine = rows_dot(state["own_rows"], state["own_row"][rows],
                              ctx.query.vectors[self.embedder], ctx.split_rows)
        else:
            cosine = self._cosine(ctx, rows)
        own = cosine - state["hub"][rows]
        scores = np.empty(n, dtype=own.dtype)
        scores[ours] = own
        scores[~ours] = np.median(own)
        return scores

    def reasons(self, ctx, positions, scores):
        """"close in meaning" for the candidates among the closest tenth; no figure (a raw
        cosine means nothing to a reader: the suggestion's strength says how well it fits)."""
        if not self.explains or not np.any(scores):
            return [[] for _ in positions]
        top = _percentile_90(scores)
        reason = _("close in meaning", ctx.ui_language)
        return [[reason] if scores[p] >= top else [] for p in positions]


def hub_state(corpus: Corpus, block: Block, embedder: str, previous: Block | None = None,
              old: dict | None = None) -> dict[str, object]:
    """Each candidate's hub score (``hub``: the mean of its ``HUB_K`` highest cosines with
    the needs, by ``embedder``) and those cosines (``top``, ascending, with the needs they
    are with: ``top_needs``), once per block and embedder (two scorers over one embedder
    share it).

    Given the ``old`` state of a ``previous`` block, it is brought up to date: a candidate
    whose text is unchanged is compared with the new or changed needs only, unless a need
    among its nearest went (then with every need, as a new or changed text is). The values
    are those a whole computation gives: the same cosines, each row's summed in ascending
    order."""
    shared = corpus.extra.setdefault("hub_scores", {})
    found = shared.get((block.kind, embedder))
    if found is not None:
        return found
    matrix = block.vectors.get(embedder)
    needs = corpus.need_vectors.get(embedder)
    keys = [f"{need_id}\x00{content_hash(corpus.needs[need_id]['text'])}"
            for need_id in (needs or {})]
    if (previous is not None and old is not None and old.get("need_keys") == keys
            and previous.texts == block.texts):  # the same needs and texts: as it was
        shared[(block.kind, embedder)] = old
        return old
    if matrix is None or not needs or not len(block):
        made = {"hub": np.zeros(len(block)), "need_keys": keys, "top": None, "top_needs": None}
        shared[(block.kind, embedder)] = made
        return made
    need_matrix = np.vstack(list(needs.values())).T
    k = min(HUB_K, need_matrix.shape[1])
    top = np.empty((len(block), k), dtype=np.float32)
    top_needs = np.empty((len(block), k), dtype=np.int64)
    todo = np.ones(len(block), dtype=bool)
    if (previous is not None and old is not None and old.get("top") is not None
            and old["top"].shape[1] == k):
        rows, values, ids, added = _still_nearest(block, previous, old, keys)
        for start in range(0, len(rows), HUB_ROWS):
            part = slice(start, start + HUB_ROWS)
            if len(added):  # the new needs join each row's nearest
                sims = matrix[rows[part]] @ need_matrix[:, added]
                both = np.hstack([values[part], sims])
                both_ids = np.hstack([ids[part], np.broadcast_to(added, sims.shape)])
                chosen = np.argpartition(both, both.shape[1] - k, axis=1)[:, -k:]
                values[part] = np.take_along_axis(both, chosen, axis=1)
                ids[part] = np.take_along_axis(both_ids, chosen, axis=1)
        top[rows], top_needs[rows] = values, ids
        todo[rows] = False
    rest = np.flatnonzero(todo)
    whole = len(rest) == len(block)  # a slice of the matrix, not a copy of its rows
    for start in range(0, len(rest), HUB_ROWS):  # bounded memory at any scale
        rows = slice(start, start + HUB_ROWS) if whole else rest[start:start + HUB_ROWS]
        sims = matrix[rows] @ need_matrix
        chosen = np.argpartition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        top[rows] = np.take_along_axis(sims, chosen, axis=1)
        top_needs[rows] = chosen
    ascending = np.argsort(top, axis=1, kind="stable")  # one order of summing, however found
    top = np.take_along_axis(top, ascending, axis=1)
    top_needs = np.take_along_axis(top_needs, ascending, axis=1)
    made = {"hub": top.mean(axis=1), "need_keys": keys, "top": top, "top_needs": top_needs}
    shared[(block.kind, embedder)] = made
    return made


def _still_nearest(block: Block, previous: Block, old: dict, keys: list[str]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows of ``block`` whose text ``previous`` had and none of whose nearest needs went
    or changed; their nearest cosines and needs (as positions in ``keys``) from ``old``; and
    the positions of the needs ``old`` did not have."""
    position = {key: j for j, key in enumerate(keys)}
    moved = np.array([position.get(key, -1) for key in old["need_keys"]], dtype=np.int64)
    added = np.setdiff1d(np.arange(len(keys)), moved[moved >= 0])
    earlier = {text: i for i, text in enumerate(previous.texts)}
    source = np.array([earlier.get(text, -1) for text in block.texts], dtype=np.int64)
    rows = np.flatnonzero(source >= 0)
    ids = moved[old["top_needs"][source[rows]]]
    intact = (ids >= 0).all(axis=1)
    rows, ids = rows[intact], ids[intact]
    values = np.array(old["top"][source[rows]], dtype=np.float32)
    return rows, values, ids, added


def _percentile_90(values: np.ndarray) -> float:
    """``np.percentile(values, 90)`` (linear interpolation) by a partial sort: the same
    figure without percentile's overhead, which showed in each request's profile."""
    position = 0.9 * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    part = np.partition(values, [low, high])
    return float(part[low] + (part[high] - part[low]) * (position - low))


@hookimpl
def register_scorers(register) -> None:
    register(SemanticScorer(
        "semantic", "use-multilingual",
        "multilingual sentence-embedding cosine (Universal Sentence Encoder), hubness-corrected;"
        " speaks for needs in its 16 languages",
        label=N_("Close in meaning"), weights={"partner": 1.0, "peer": 1.0},
        needs_in=USE_LANGUAGES))
    register(SemanticScorer(
        "semantic_e5", "e5-multilingual",
        "multilingual-e5-small cosine, hubness-corrected; speaks for needs in the languages "
        "the Universal Sentence Encoder lacks (sw, tl, id, ...)",
        label=N_("Close in meaning"), weights={"partner": 1.0, "peer": 1.0},
        beyond=USE_LANGUAGES, explains=False))
    # A second multilingual reading of the needs USE covers, for partners only: on the dev set
    # (both halves, categories given or hidden) partner nDCG@5 rose by 0.01-0.02 at weight
    # 0.5 (0.3-0.7 alike, 1.0 less); peers gained nothing at any weight (README).
    register(SemanticScorer(
        "semantic_e5_second", "e5-multilingual",
        "multilingual-e5-small cosine, hubness-corrected, as a second semantic signal for "
        "partner suggestions to needs in the Universal Sentence Encoder's languages",
        label=N_("Close in meaning (second model)"), public_label=N_("Close in meaning"),
        weights={"partner": 0.5}, needs_in=USE_LANGUAGES, explains=False,
        kinds=frozenset({"partner"})))
    register(SemanticScorer(
        "semantic_minilm", "minilm",
        "English all-MiniLM-L6-v2 cosine, hubness-corrected; speaks only for English needs",
        label=N_("Close in meaning (English model)"), public_label=N_("Close in meaning"),
        weights={"partner": 0.5, "peer": 0.3},
        languages=frozenset({"en"}), explains=False))
