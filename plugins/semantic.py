"""Semantic similarity: cosine between the need's and the candidate's sentence embeddings."""

from __future__ import annotations

import numpy as np

from matcher import hookimpl
from matcher.scoring import Scorer, ScoringContext


class SemanticScorer(Scorer):
    """Cosine similarity of unit vectors from one embedder."""

    normalise = "zscore"

    def __init__(self, name: str, embedder: str, description: str):
        self.name = name
        self.embedder = embedder
        self.description = description

    def score(self, ctx: ScoringContext) -> np.ndarray:
        matrix = ctx.block.vectors.get(self.embedder)
        if matrix is None:
            raise LookupError(f"no vectors from embedder {self.embedder!r} (see settings.embedders)")
        return matrix[ctx.candidates] @ ctx.query.vectors[self.embedder]

    def reasons(self, ctx, positions, scores):
        return [[f"close in meaning ({scores[p]:.2f})"] if scores[p] >= np.percentile(scores, 90)
                else [] for p in positions]


@hookimpl
def register_scorers(register) -> None:
    register(SemanticScorer(
        "semantic", "use-multilingual",
        "cosine similarity of multilingual sentence embeddings (Universal Sentence Encoder)"))
    register(SemanticScorer(
        "semantic_minilm", "minilm",
        "cosine similarity of English all-MiniLM-L6-v2 embeddings (needs the 'minilm' embedder)"))
