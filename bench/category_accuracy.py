"""Accuracy of category inference on the needs of a labelled set that do carry a category.

    python bench/category_accuracy.py ../shared/bench/dev/dataset.json [--folds 5]

The engine infers a category for needs that have none, from a classifier trained on what the
exchange labels. To measure it honestly on needs that DO carry a category, their labels are
hidden in k folds: each fold's needs are predicted by a model trained without their labels.
Prints accuracy (top-1 and top-3) per need language and overall.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from matcher.exchange import parse_document
from matcher.language import detect_language
from matcher.ranking import categorize
from matcher.ranking.engine import Engine
from matcher.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--db", type=Path, help="reuse this database (default: a temporary one)")
    args = parser.parse_args()

    db = args.db or Path(tempfile.mkdtemp()) / "category.db"
    engine = Engine(load_settings(db=db))
    engine.store.import_exchange(parse_document(args.dataset.read_bytes(), engine.ref))
    corpus = engine.corpus()
    name = engine.primary_embedder
    needs = list(corpus.needs.values())
    vectors = np.vstack([corpus.need_vectors[name][n["id"]] for n in needs])
    labels = categorize.labels(corpus, [n["category"] for n in needs])
    protos = categorize.prototype_texts(engine.ref)
    proto_vectors = engine.vectors_for(name, [t for _, t in protos])
    proto_labels = categorize.labels(corpus, [c for c, _ in protos])
    labelled = np.flatnonzero(labels >= 0)

    hits1: dict[str, list[bool]] = defaultdict(list)
    hits3: dict[str, list[bool]] = defaultdict(list)
    for _, test in KFold(args.folds, shuffle=True, random_state=0).split(labelled):
        hidden = labelled[test]
        train_labels = labels.copy()
        train_labels[hidden] = -1
        x, y = categorize.training_set(corpus, name, vectors, train_labels, proto_vectors,
                                       proto_labels)
        model = categorize.train(x, y, len(corpus.categories))
        probs = model.predict_proba(vectors[hidden])
        for row, i in zip(probs, hidden):
            lang = detect_language(needs[i]["text"])
            top3 = np.argsort(-row)[:3]
            hits1[lang].append(int(top3[0]) == labels[i])
            hits3[lang].append(int(labels[i]) in top3)

    everything1 = [h for v in hits1.values() for h in v]
    everything3 = [h for v in hits3.values() for h in v]
    print(f"category inference on {len(everything1)} labelled needs, {args.folds}-fold "
          f"(labels of the held-out fold hidden from training)")
    print(f"{'language':10s} {'n':>4s} {'top-1':>7s} {'top-3':>7s}")
    for lang in sorted(hits1):
        print(f"{lang:10s} {len(hits1[lang]):4d} {np.mean(hits1[lang]):7.3f} "
              f"{np.mean(hits3[lang]):7.3f}")
    print(f"{'all':10s} {len(everything1):4d} {np.mean(everything1):7.3f} "
          f"{np.mean(everything3):7.3f}")
    print(json.dumps({"top1": float(np.mean(everything1)), "top3": float(np.mean(everything3))}))


if __name__ == "__main__":
    main()
