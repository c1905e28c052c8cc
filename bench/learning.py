"""Does learning the fusion from coordinators' decisions help? One run, a fixed seed.

    python bench/learning.py ../shared/bench/dev [--seed 7] [--shown 10] [--db PATH]

Imports the set (into a temporary database unless ``--db``) and splits its needs in two
halves at random (``--seed``). Coordinators are simulated on the first half from the qrels,
through the real lifecycle: each need's first ``--shown`` suggestions (hand weights) are
proposed; grade >= 2 is approved (then closed, so that no slot stays held), grade 0 (or
unlisted) rejected as "not relevant", grade 1 left undecided. ``matcher train``'s learning
(:func:`matcher.ranking.learn.train`) then fits the fusion on those decisions alone, and both
fusions rank the other half's needs: nDCG@5, Recall@10 and MRR per track, by
:func:`matcher.ranking.evaluate.score_run` (ranx). The learned weights are printed too.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from matcher.errors import Conflict
from matcher.exchange import parse_document
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.ranking.evaluate import load_set, make_run, score_run
from matcher.ranking.learn import train
from matcher.settings import load_settings
from matcher.vocabulary import KINDS
from matcher.workflow import lifecycle

ADMIN = Principal(Role.ADMIN, label="bench coordinator")
QRELS = {"partner": "partner_qrels", "peer": "peer_qrels"}


def simulate(engine: Engine, need_ids: list[str], qrels: dict, shown: int) -> dict[str, int]:
    """Coordinators' decisions on the first ``shown`` suggestions of each need; counts."""
    counts = {"approved": 0, "rejected": 0, "undecided": 0, "refused": 0}
    for kind in KINDS:
        grades = qrels[QRELS[kind]]
        for need_id in need_ids:
            if need_id not in grades:
                continue
            for s in engine.suggest(need_id, kind, shown).suggestions:
                grade = grades[need_id].get(s.item_id, 0)
                if grade == 1:
                    counts["undecided"] += 1
                    continue
                try:
                    match = lifecycle.propose(engine, ADMIN, need_id, kind, s.item_id)
                    if grade >= 2:
                        lifecycle.transition(engine, ADMIN, match["id"], "approve")
                        lifecycle.transition(engine, ADMIN, match["id"], "close",
                                             note="simulated: approved, then closed")
                        counts["approved"] += 1
                    else:
                        lifecycle.transition(engine, ADMIN, match["id"], "reject",
                                             reason="not_relevant")
                        counts["rejected"] += 1
                except Conflict:  # a full offering, say
                    counts["refused"] += 1
    return counts


def only(qrels: dict, need_ids: set[str]) -> dict:
    """``qrels`` restricted to ``need_ids``."""
    return {**qrels, **{key: {n: g for n, g in qrels[key].items() if n in need_ids}
                        for key in QRELS.values()},
            "forbidden": {n: f for n, f in qrels.get("forbidden", {}).items() if n in need_ids}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with dataset.json and qrels.json")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shown", type=int, default=10,
                        help="suggestions per need and track a coordinator decides on")
    parser.add_argument("--db", type=Path, help="a new database file (default: temporary)")
    args = parser.parse_args()

    dataset, qrels = load_set(args.folder)
    db = args.db or Path(tempfile.mkdtemp()) / "learning.db"
    engine = Engine(load_settings(db=db))
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()
    need_ids = sorted(n["id"] for a in dataset["associations"] for n in a["needs"])
    random.Random(args.seed).shuffle(need_ids)
    half = len(need_ids) // 2
    train_ids, test_ids = sorted(need_ids[:half]), sorted(need_ids[half:])
    test_qrels = only(qrels, set(test_ids))

    hand = score_run(make_run(engine, test_ids), test_qrels, dataset)
    counts = simulate(engine, train_ids, qrels, args.shown)
    report = train(engine)
    learned = score_run(make_run(engine, test_ids), test_qrels, dataset)

    print(f"learning the fusion on {args.folder.resolve().name}: seed {args.seed}, "
          f"{len(train_ids)} needs decided, {len(test_ids)} evaluated; "
          f"{args.shown} suggestions shown per need and track")
    print("simulated decisions: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for kind in KINDS:
        status = engine.fusion_status(kind).description
        print(f"{kind}: {report.decisions[kind]} decisions ({report.positives[kind]} "
              f"relevant) -> {status}" + (f" ({report.why[kind]})" if kind in report.why else ""))
    print(f"\n{'track':8s} {'fusion':8s} {'nDCG@5':>7s} {'MRR':>7s} {'R@10':>7s} {'needs':>6s}")
    for kind in KINDS:
        for name, r in (("hand", hand), ("learned", learned)):
            f = r.tracks[kind]
            print(f"{kind:8s} {name:8s} {f['ndcg@5']:7.3f} {f['mrr']:7.3f} "
                  f"{f['recall@10']:7.3f} {f['needs']:6d}")
    print("\nweights (hand -> learned)")
    for kind in KINDS:
        learned_weights = report.weights[kind] or {}
        hand_weights = engine.hand_weights(kind)
        print(f"{kind}: " + ", ".join(
            f"{name} {hand_weights.get(name, 0.0):g} -> {w:.2f}"
            for name, w in learned_weights.items()))
    print(json.dumps({"seed": args.seed, "decisions": counts,
                      "hand": {k: {m: round(v, 4) for m, v in f.items()}
                               for k, f in hand.tracks.items()},
                      "learned": {k: {m: round(v, 4) for m, v in f.items()}
                                  for k, f in learned.tracks.items()}}))


if __name__ == "__main__":
    main()
