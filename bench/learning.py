"""Does learning the fusion from coordinators' decisions help? One run, a fixed seed.

    python bench/learning.py ../shared/bench/dev [--seed 7] [--shown 10] [--start both]

Imports the set (into a temporary database unless ``--db``) and splits its needs in two
halves at random (``--seed``). Coordinators are simulated on the first half from the qrels,
through the real lifecycle: each need's first ``--shown`` suggestions (hand weights) are
proposed; grade >= 2 is approved (then closed, so that no slot stays held), grade 0 (or
unlisted) rejected as "not relevant", grade 1 left undecided. ``matcher train``'s learning
(:func:`matcher.ranking.learn.train`) then fits the fusion on those decisions alone, and both
fusions rank the other half's needs: nDCG@5, Recall@10 and MRR per track, by
:func:`matcher.ranking.evaluate.score_run` (ranx). The learned weights are printed too.

Twice (``--start both``): from the shipped hand weights (measured on this very set, so hard to
beat on it), and from weights nobody tuned (every scorer 1), as a deployment whose hand
weights do not fit its members would start.
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


def equal_weights() -> dict[str, dict[str, float]]:
    """Every scorer weighted 1 for every kind it scores: fusion weights nobody tuned."""
    from matcher.plugins import collect_scorers, get_plugin_manager

    scorers = collect_scorers(get_plugin_manager())
    return {kind: {name: 1.0 for name, r in scorers.items() if kind in r.scorer.kinds}
            for kind in KINDS}


def scenario(name: str, dataset: dict, qrels: dict, train_ids: list[str],
             test_ids: list[str], shown: int, db: Path,
             weights: dict[str, dict[str, float]] | None) -> dict:
    """Evaluate the starting weights on ``test_ids``, simulate the coordinators on
    ``train_ids``, train, evaluate again; print and return the figures."""
    engine = Engine(load_settings(db=db, weights=weights))
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()
    test_qrels = only(qrels, set(test_ids))
    hand = score_run(make_run(engine, test_ids), test_qrels, dataset)
    counts = simulate(engine, train_ids, qrels, shown)
    report = train(engine)
    learned = score_run(make_run(engine, test_ids), test_qrels, dataset)

    print(f"\n== starting from {name}")
    print("simulated decisions: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for kind in KINDS:
        status = engine.fusion_status(kind).description
        print(f"{kind}: {report.decisions[kind]} decisions ({report.positives[kind]} "
              f"relevant) -> {status}" + (f" ({report.why[kind]})" if kind in report.why else ""))
    print(f"{'track':8s} {'fusion':8s} {'nDCG@5':>7s} {'MRR':>7s} {'R@10':>7s} {'needs':>6s}")
    for kind in KINDS:
        for label, r in (("start", hand), ("learned", learned)):
            f = r.tracks[kind]
            print(f"{kind:8s} {label:8s} {f['ndcg@5']:7.3f} {f['mrr']:7.3f} "
                  f"{f['recall@10']:7.3f} {f['needs']:6d}")
    print("weights (start -> learned)")
    for kind in KINDS:
        start = engine.hand_weights(kind)
        print(f"  {kind}: " + ", ".join(f"{n} {start.get(n, 0.0):g} -> {w:.2f}"
                                        for n, w in (report.weights[kind] or {}).items()))
    engine.close()
    return {"decisions": counts,
            "start": {k: {m: round(v, 4) for m, v in f.items()} for k, f in hand.tracks.items()},
            "learned": {k: {m: round(v, 4) for m, v in f.items()}
                        for k, f in learned.tracks.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with dataset.json and qrels.json")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shown", type=int, default=10,
                        help="suggestions per need and track a coordinator decides on")
    parser.add_argument("--start", choices=("hand", "equal", "both"), default="both",
                        help="the weights coordinators first see: the shipped hand weights, "
                             "every scorer weighted 1, or both in turn")
    parser.add_argument("--workdir", type=Path, help="a folder for the databases "
                                                     "(default: a temporary one)")
    args = parser.parse_args()

    dataset, qrels = load_set(args.folder)
    workdir = args.workdir or Path(tempfile.mkdtemp())
    need_ids = sorted(n["id"] for a in dataset["associations"] for n in a["needs"])
    random.Random(args.seed).shuffle(need_ids)
    half = len(need_ids) // 2
    train_ids, test_ids = sorted(need_ids[:half]), sorted(need_ids[half:])
    print(f"learning the fusion on {args.folder.resolve().name}: seed {args.seed}, "
          f"{len(train_ids)} needs decided, {len(test_ids)} evaluated; "
          f"{args.shown} suggestions shown per need and track")
    starts = {"hand": ("the shipped hand weights", None),
              "equal": ("every scorer weighted 1", equal_weights())}
    chosen = list(starts) if args.start == "both" else [args.start]
    figures = {}
    for key in chosen:
        name, weights = starts[key]
        figures[key] = scenario(name, dataset, qrels, train_ids, test_ids, args.shown,
                                workdir / f"learning-{key}.db", weights)
    print(json.dumps({"seed": args.seed, **figures}))


if __name__ == "__main__":
    main()
