"""Category inference: a need or practice without a category gets one, with a confidence.

A logistic-regression classifier over sentence embeddings, trained on what the exchange itself
labels (offerings, and the needs and practices that carry a category) plus the multilingual
category descriptions in ``data/categories.json`` as prototypes. It works in any language the
embedder covers, and it learns each deployment's own vocabulary as data arrives.

scikit-learn trains the model; a :class:`CategoryModel` keeps only its coefficients, so that a
process reading a saved corpus does not import scikit-learn (about 0.9 s of its start).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass

import numpy as np

from matcher.ranking.corpus import Corpus
from matcher.reference import UI_LANGUAGES, Reference

BLOCK_ROWS = 256  # rows per prediction (:func:`in_blocks`)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def prototype_texts(ref: Reference) -> list[tuple[str, str]]:
    """(category, text) pairs: each category's label and each sentence of its description, in
    every UI language. Sentences, not whole descriptions: each names one typical sub-topic."""
    pairs = []
    for category, info in ref.categories.items():
        for lang in UI_LANGUAGES:
            label = info.get("label", {}).get(lang)
            if label:
                pairs.append((category, label))
            description = info.get("description", {}).get(lang) or ""
            pairs.extend((category, sentence.strip()) for sentence in
                         _SENTENCE_END.split(description) if len(sentence.strip()) > 3)
    return pairs


@dataclass
class CategoryModel:
    """Predicts a probability per category (ordered as ``ref.categories``) from a vector: a
    fitted logistic regression's coefficients (``None`` when there was nothing to learn from),
    applied as scikit-learn's ``predict_proba`` applies them."""

    n_categories: int
    coef: np.ndarray | None
    intercept: np.ndarray | None
    classes: np.ndarray

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        out = np.full((len(vectors), self.n_categories), 1.0 / self.n_categories)
        if self.coef is None or len(vectors) == 0:
            return out
        out[:] = 0.0
        out[:, self.classes] = in_blocks(self._proba, vectors)
        return out

    def _proba(self, vectors: np.ndarray) -> np.ndarray:
        """``LogisticRegression.predict_proba``: a logistic curve for two classes, a softmax
        over more (the same operations, in the same order)."""
        decision = vectors @ self.coef.T + self.intercept
        if len(self.classes) <= 2:
            p = 1.0 / (1.0 + np.exp(-decision.reshape(-1)))
            return np.vstack([1 - p, p]).T
        decision -= decision.max(axis=1).reshape(-1, 1)
        np.exp(decision, out=decision)
        decision /= decision.sum(axis=1).reshape(-1, 1)
        return decision


def in_blocks(predict, vectors: np.ndarray) -> np.ndarray:
    """``predict(vectors)`` over blocks of exactly :data:`BLOCK_ROWS` rows (the last padded
    with zeros). BLAS rounds the last bit of a row's value by how many rows one call gets;
    in same-sized blocks a row's value is the same whichever rows come with it, so a corpus
    brought up to date keeps the values of its unchanged rows, equal to a whole build's."""
    out: np.ndarray | None = None
    for start in range(0, len(vectors), BLOCK_ROWS):
        part = vectors[start:start + BLOCK_ROWS]
        rows = len(part)
        if rows < BLOCK_ROWS:
            padded = np.zeros((BLOCK_ROWS, vectors.shape[1]), dtype=vectors.dtype)
            padded[:rows] = part
            part = padded
        found = predict(part)
        if out is None:
            out = np.empty((len(vectors), found.shape[1]), dtype=found.dtype)
        out[start:start + rows] = found[:rows]
    assert out is not None
    return out


def train(vectors: np.ndarray, labels: np.ndarray, n_categories: int,
          C: float = 16.0) -> CategoryModel:
    """Fit on labelled vectors (labels are category indices; -1 means unlabelled, skipped)."""
    keep = labels >= 0
    x, y = vectors[keep], labels[keep]
    classes = np.unique(y)
    if len(classes) < 2:
        return CategoryModel(n_categories, None, None, classes)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y)
    return CategoryModel(n_categories, model.coef_, model.intercept_, model.classes_)


def labels(corpus: Corpus, categories: list[str | None]) -> np.ndarray:
    """Category indices, -1 where there is none."""
    return np.array([corpus.categories.get(c) if c else -1 for c in categories], dtype=np.int64)


def training_set(corpus: Corpus, embedder: str, need_vectors: np.ndarray,
                 need_labels: np.ndarray, prototype_vectors: np.ndarray,
                 prototype_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every labelled text the exchange holds (offerings, practices, needs) plus prototypes
    (the unlabelled ones are left out here: :func:`train` would skip them)."""
    parts = [(corpus.offerings.vectors[embedder], corpus.offerings.category),
             (corpus.practices.vectors[embedder], corpus.practices.category),
             (need_vectors, need_labels), (prototype_vectors, prototype_labels)]
    parts = [(x[y >= 0], y[y >= 0]) for x, y in parts if len(y)]
    return np.vstack([x for x, _ in parts]), np.concatenate([y for _, y in parts])


def training_key(embedder: str, n_categories: int,
                 parts: list[tuple[list[str], np.ndarray]]) -> str:
    """A digest of what :func:`training_set` would hold, from the labelled texts (each
    text's vector is the embedder's for it) and their labels, in order: the same key, the
    same model, without gathering the vectors. Unlabelled texts are not in it (a new one
    trains nothing again)."""
    digest = hashlib.blake2b(f"{embedder}\n{n_categories}".encode(), digest_size=16)
    for texts, labels in parts:
        labels = np.asarray(labels, dtype=np.int64)
        for i in np.flatnonzero(labels >= 0).tolist():
            digest.update(f"{labels[i]}\x00{texts[i]}\x00".encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def with_given(probs: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Replace predicted rows by certainty where a category was given (index >= 0)."""
    out = probs.copy()
    rows = np.flatnonzero(given >= 0)
    out[rows] = 0.0
    out[rows, given[rows]] = 1.0
    return out
