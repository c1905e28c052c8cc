"""Category inference: a need or practice without a category gets one, with a confidence.

A logistic-regression classifier over sentence embeddings, trained on what the exchange itself
labels (offerings, and the needs and practices that carry a category) plus the multilingual
category descriptions in ``data/categories.json`` as prototypes. It works in any language the
embedder covers, and it learns each deployment's own vocabulary as data arrives.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from matcher.reference import UI_LANGUAGES, Reference


def prototype_texts(ref: Reference) -> list[tuple[str, str]]:
    """(category, text) pairs: label and description of every category in every UI language."""
    pairs = []
    for category, info in ref.categories.items():
        for lang in UI_LANGUAGES:
            label = info.get("label", {}).get(lang)
            description = info.get("description", {}).get(lang)
            if label or description:
                pairs.append((category, f"{label or ''}. {description or ''}".strip(". ")))
    return pairs


@dataclass
class CategoryModel:
    """Predicts a probability per category (ordered as ``ref.categories``) from a vector."""

    n_categories: int
    model: LogisticRegression | None
    classes: np.ndarray

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        out = np.full((len(vectors), self.n_categories), 1.0 / self.n_categories)
        if self.model is None or len(vectors) == 0:
            return out
        out[:] = 0.0
        out[:, self.classes] = self.model.predict_proba(vectors)
        return out


def train(vectors: np.ndarray, labels: np.ndarray, n_categories: int,
          C: float = 4.0) -> CategoryModel:
    """Fit on labelled vectors (labels are category indices; -1 means unlabelled, skipped)."""
    keep = labels >= 0
    x, y = vectors[keep], labels[keep]
    classes = np.unique(y)
    if len(classes) < 2:
        return CategoryModel(n_categories, None, classes)
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y)
    return CategoryModel(n_categories, model, model.classes_)
