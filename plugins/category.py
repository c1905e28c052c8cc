"""Category match: the need's category (given, or inferred with a confidence) against the
candidate's, with partial credit for related categories (``data/categories.json``)."""

from __future__ import annotations

import numpy as np

from matcher import hookimpl
from matcher.i18n import N_, _
from matcher.ranking.corpus import Block, Corpus
from matcher.ranking.scoring import Scorer, ScoringContext

RELATED_CREDIT = 0.5
# A topic reason is given when the topic score (the value the "Same topic" bar shows, times
# its weight) is at least this: the reason and the bar say the same thing.
TOPIC_REASON = 0.5


def relation_matrix(corpus: Corpus) -> np.ndarray:
    """R[i, j] = 1 for the same category, RELATED_CREDIT for related ones, else 0."""
    names = list(corpus.categories.index)
    matrix = np.eye(len(names))
    for i, name in enumerate(names):
        for other in corpus.ref.categories[name].get("related", []):
            j = corpus.categories.get(other)
            if j >= 0:
                matrix[i, j] = matrix[j, i] = max(matrix[i, j], RELATED_CREDIT)
    return matrix


class CategoryScorer(Scorer):
    inline = True  # a few numpy passes: run in the request's thread
    name = "category"
    label = N_("Same topic")
    weights = {"partner": 2.0, "peer": 2.0}  # measured on the dev benchmark (README)
    description = "need category (given or inferred) against the candidate's; related get partial"
    normalise = "none"

    def prepare(self, corpus: Corpus, block: Block):
        return relation_matrix(corpus)

    def score(self, ctx: ScoringContext) -> np.ndarray:
        relation = ctx.block.state[self.name]
        wanted = relation.T @ ctx.query.category_probs  # credit of each candidate category
        probs = ctx.block.arrays["category_probs"]
        if len(ctx.candidates) * 2 > len(probs):  # most of the block: one pass, no copy
            return (probs @ wanted)[ctx.candidates]
        return probs[ctx.candidates] @ wanted

    def reasons(self, ctx, positions, scores):
        """From the score itself (what the topic bar shows): "topic" when it is at least
        :data:`TOPIC_REASON` and the candidate's topic is the need's, "related topic" when
        it is and the topic is another; nothing below."""
        corpus, lang = ctx.corpus, ctx.ui_language
        names = list(corpus.categories.index)
        need_cat = names[ctx.query.category]
        probs = ctx.block.arrays["category_probs"]
        out = []
        for p in positions:
            if scores[p] < TOPIC_REASON:
                out.append([])
                continue
            cat = names[int(np.argmax(probs[ctx.candidates[p]]))]
            label = corpus.ref.category_label(cat, lang)
            out.append([_("topic: {label}", lang, label=label) if cat == need_cat
                        else _("related topic: {label}", lang, label=label)])
        return out


@hookimpl
def register_scorers(register) -> None:
    register(CategoryScorer())
