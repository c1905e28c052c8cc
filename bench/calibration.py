"""How well ``strength`` is calibrated on a labelled set, cross-validated by need.

    python bench/calibration.py ../shared/bench/dev [--folds 5] [--db PATH]

Imports the set (into a temporary database unless ``--db``), scores every (need, candidate)
pair that passes the hard filters, and fits the strength model in k folds grouped by need
(GroupKFold): each need's pairs are scored by a model that saw none of that need's pairs. The
label is grade >= 2 in qrels.json (an unlisted pair is grade 0). Prints per track and pooled:
expected calibration error (10 equal-width bins), Brier score, ROC AUC, the share of ``strong``
pairs that are grade >= 2, then each label's pairs and their share of grade >= 2, and the
reliability table (mean strength against the observed share, per bin). Most admissible pairs
are plainly unrelated, which flatters ECE over all of them: the ``top 10`` rows measure only
the pairs the engine would show (each need's first 10 suggestions).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from matcher.exchange import parse_document
from matcher.ranking.calibrate import collect, cross_validated, figures
from matcher.ranking.calibration import LABELS, WEAK, label_of
from matcher.ranking.engine import Engine
from matcher.ranking.evaluate import load_set
from matcher.settings import load_settings

BINS = 10
SHOWN = 10  # the pairs a user sees: each need's first suggestions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with dataset.json and qrels.json")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--db", type=Path, help="reuse this database (default: a temporary one)")
    args = parser.parse_args()

    dataset, qrels = load_set(args.folder)
    db = args.db or Path(tempfile.mkdtemp()) / "calibration.db"
    engine = Engine(load_settings(db=db))
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()
    need_ids = [n["id"] for a in dataset["associations"] for n in a["needs"]]
    strong = dict(LABELS)["strong"]

    print(f"strength calibration on {args.folder.resolve().name}, {args.folds}-fold "
          f"cross-validation grouped by need; label: grade >= 2")
    print(f"{'track':10s} {'pairs':>6s} {'pos':>5s} {'ECE':>6s} {'Brier':>7s} {'AUC':>6s} "
          f"{'strong':>7s} {'strong ≥2':>9s}")
    everything: list[tuple[np.ndarray, np.ndarray]] = []
    summary = {}
    for kind in ("partner", "peer"):
        pairs = collect(engine, need_ids, qrels, kind)
        oof = cross_validated(pairs, args.folds)
        everything.append((pairs.y, oof))
        summary[kind] = figures(pairs.y, oof, strong, BINS)
        _row(kind, summary[kind])
        shown = {(need_id, s.item_id) for need_id in need_ids
                 if need_id in qrels[f"{kind}_qrels"]
                 for s in engine.suggest(need_id, kind, SHOWN).suggestions}
        top = np.array([(n, i) in shown
                        for n, i in zip(pairs.needs, pairs.items, strict=True)], dtype=bool)
        summary[f"{kind} top {SHOWN}"] = figures(pairs.y[top], oof[top], strong, BINS)
        _row(f"  top {SHOWN}", summary[f"{kind} top {SHOWN}"])
    y = np.concatenate([y for y, _ in everything])
    p = np.concatenate([p for _, p in everything])
    summary["both"] = figures(y, p, strong, BINS)
    _row("both", summary["both"])

    for kind, (y, p) in zip(("partner", "peer"), everything, strict=True):
        print(f"\n{kind}: pairs per label (share with grade >= 2)")
        labels = np.array([label_of(v) for v in p])
        for name in [*(n for n, _ in LABELS), WEAK]:
            chosen = labels == name
            share = f"{y[chosen].mean():.2f}" if chosen.any() else "-"
            print(f"  {name:9s} {int(chosen.sum()):5d}  {share}")
        print(f"{kind}: reliability (strength bin: pairs, mean strength, observed share)")
        which = np.clip(np.digitize(p, np.linspace(0, 1, BINS + 1)[1:-1]), 0, BINS - 1)
        for b in range(BINS):
            chosen = which == b
            if chosen.any():
                print(f"  {b / BINS:.1f}-{(b + 1) / BINS:.1f} {int(chosen.sum()):5d}  "
                      f"{p[chosen].mean():.3f}  {y[chosen].mean():.3f}")
    print(json.dumps({k: {m: round(v, 4) for m, v in f.items()} for k, f in summary.items()}))


def _row(name: str, f: dict) -> None:
    print(f"{name:10s} {f['pairs']:6d} {f['positives']:5d} {f['ece']:6.3f} {f['brier']:7.4f} "
          f"{f['auc']:6.3f} {f['strong']:7d} {f['strong_precision']:9.2f}")


if __name__ == "__main__":
    main()
