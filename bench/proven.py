"""Does what worked before (the ``proven`` scorer) help the other needs? One run, a fixed seed.

    python bench/proven.py ../shared/bench/dev [--seed 7] [--shown 10]

Imports the set (into a temporary folder unless ``--workdir``) and splits its needs in two
halves at random (``--seed``). On half A, the exchanges are simulated through the real
lifecycle (propose, approve, accept, activate, record_outcome, close): each need's first
``--shown`` suggestions per track are taken up, and the qrels decide what came of each, grade 3
an outcome that helped (``agreement_signed`` for an offering, ``visit`` for a practice), grade
0 (unlisted) ``no_outcome``; grades 1 and 2 are left alone. Half B is then ranked three ways,
nDCG@5 (and MRR, Recall@10) per track by :func:`matcher.ranking.evaluate.score_run` (ranx):

  (a) without proven: its weight 0, on the same database;
  (b) with proven and that informative history;
  (c) with proven and an uninformative history: a copy of the database before the
      simulation, given the same outcomes with their items shuffled (a random permutation of
      each track's items: an item's counts land on another), written through the store
      (the shuffled pairs may break a hard rule, which the lifecycle would refuse).

The issue asks: (b) and (c) do not drop below (a), and (b) rises above it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from matcher.errors import Conflict
from matcher.exchange import parse_document
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.ranking.evaluate import load_set, make_run, score_run
from matcher.settings import load_settings
from matcher.vocabulary import KINDS
from matcher.workflow import lifecycle

ADMIN = Principal(Role.ADMIN, label="bench coordinator")
QRELS = {"partner": "partner_qrels", "peer": "peer_qrels"}
HELPED = {"partner": "agreement_signed", "peer": "visit"}
STEPS = ("approve", "accept", "activate")


def history_of(engine: Engine, need_ids: list[str], qrels: dict, shown: int
               ) -> list[tuple[str, str, str, str]]:
    """What came of half A's exchanges: (need, kind, item, outcome) for each need's first
    ``shown`` suggestions graded 3 (helped) or 0 (no outcome)."""
    events = []
    for kind in KINDS:
        grades = qrels[QRELS[kind]]
        for need_id in need_ids:
            for s in engine.suggest(need_id, kind, shown, explained=False).suggestions:
                grade = grades.get(need_id, {}).get(s.item_id, 0)
                if grade in (0, 3):
                    events.append((need_id, kind, s.item_id,
                                   HELPED[kind] if grade == 3 else "no_outcome"))
    return events


def live(engine: Engine, events: list[tuple[str, str, str, str]]) -> Counter:
    """Each exchange through the lifecycle, from proposal to its outcome, then closed."""
    counts: Counter = Counter()
    for need_id, kind, item_id, outcome in events:
        try:
            match = lifecycle.propose(engine, ADMIN, need_id, kind, item_id)
            for action in STEPS:
                match = lifecycle.transition(engine, ADMIN, match["id"], action)
            match = lifecycle.transition(engine, ADMIN, match["id"], "record_outcome",
                                         outcome=outcome)
            lifecycle.transition(engine, ADMIN, match["id"], "close")
            counts[outcome] += 1
        except Conflict:  # a full offering, say
            counts["refused"] += 1
    return counts


def shuffled(engine: Engine, events: list[tuple[str, str, str, str]], seed: int) -> list:
    """The same outcomes, each track's items permuted at random (over all its items)."""
    rng = random.Random(seed + 1)
    corpus = engine.corpus()
    moved = []
    for kind in KINDS:
        ids = list(corpus.block(kind).ids)
        permuted = ids[:]
        rng.shuffle(permuted)
        to = dict(zip(ids, permuted, strict=True))
        moved += [(n, k, to[i], o) for n, k, i, o in events if k == kind]
    return moved


def written(engine: Engine, events: list[tuple[str, str, str, str]]) -> Counter:
    """Each exchange written through the store (the rows the lifecycle writes, the need's
    category included)."""
    store, counts = engine.store, Counter()
    for need_id, kind, item_id, outcome in events:
        need = store.get("needs", need_id)
        item = store.get("offerings" if kind == "partner" else "practices", item_id)
        owner = item["partner_id"] if kind == "partner" else item["association_id"]
        match = store.create_match(
            {"kind": kind, "need_id": need_id, "association_id": need["association_id"],
             "item_id": item_id, "owner_id": owner, "score": 0.0,
             "category": engine.need_category(need_id)[0], "reasons": []},
            actor="bench", role="admin")
        status = "proposed"
        for action, target in zip((*STEPS, "record_outcome", "close"),
                                  ("approved", "introduced", "active", "outcome_recorded",
                                   "closed"), strict=True):
            match = store.transition_match(
                match["id"], version=match["version"], from_status=status, to_status=target,
                action=action, actor="bench", role="admin",
                outcome=outcome if action == "record_outcome" else None)
            status = target
        counts[outcome] += 1
    return counts


def only(qrels: dict, need_ids: set[str]) -> dict:
    """``qrels`` restricted to ``need_ids``."""
    return {**qrels, **{key: {n: g for n, g in qrels[key].items() if n in need_ids}
                        for key in QRELS.values()},
            "forbidden": {n: f for n, f in qrels.get("forbidden", {}).items() if n in need_ids}}


def evidence_summary(engine: Engine) -> dict[str, dict[str, int]]:
    """Per track: items with evidence, exchanges that helped, exchanges that led nowhere."""
    out = {}
    for kind in KINDS:
        evidence = engine.corpus().block(kind).evidence
        seen = (evidence["good"] + evidence["no_outcome"]).sum(axis=1) > 0
        out[kind] = {"items": int(seen.sum()),
                     "helped": int(evidence["good"].sum()),
                     "no_outcome": int(evidence["no_outcome"].sum())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with dataset.json and qrels.json")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shown", type=int, default=10,
                        help="suggestions per need and track taken up on half A")
    parser.add_argument("--workdir", type=Path, help="a folder for the databases "
                                                     "(default: a temporary one)")
    args = parser.parse_args()

    dataset, qrels = load_set(args.folder)
    workdir = args.workdir or Path(tempfile.mkdtemp())
    need_ids = sorted(n["id"] for a in dataset["associations"] for n in a["needs"])
    random.Random(args.seed).shuffle(need_ids)
    half = len(need_ids) // 2
    train_ids, test_ids = sorted(need_ids[:half]), sorted(need_ids[half:])
    print(f"proven on {args.folder.resolve().name}: seed {args.seed}, history simulated on "
          f"{len(train_ids)} needs, {len(test_ids)} evaluated; {args.shown} suggestions "
          "taken up per need and track")

    informative, uninformative = workdir / "proven-informative.db", workdir / "proven-shuffled.db"
    for path in (informative, uninformative):
        path.unlink(missing_ok=True)
    engine = Engine(load_settings(db=informative))
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()
    engine.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(informative, uninformative)  # before any history

    events = history_of(engine, train_ids, qrels, args.shown)
    counts = live(engine, events)
    other = Engine(load_settings(db=uninformative))
    moved_counts = written(other, shuffled(other, events, args.seed))

    test_qrels = only(qrels, set(test_ids))
    off = {kind: {"proven": 0.0} for kind in KINDS}
    runs = {"(a) without proven": score_run(make_run(engine, test_ids, weights=off),
                                            test_qrels, dataset),
            "(b) proven, informative": score_run(make_run(engine, test_ids), test_qrels,
                                                 dataset),
            "(c) proven, shuffled": score_run(make_run(other, test_ids), test_qrels, dataset)}

    print("history (lifecycle): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("shuffled (store):    " + ", ".join(f"{k} {v}" for k, v in
                                              sorted(moved_counts.items())))
    for name, eng in (("informative", engine), ("shuffled", other)):
        print(f"evidence, {name}: " + "; ".join(
            f"{kind}: {v['items']} items, {v['helped']} helped, {v['no_outcome']} no outcome"
            for kind, v in evidence_summary(eng).items()))
    weights = {kind: engine.hand_weights(kind).get("proven") for kind in KINDS}
    print(f"proven weights: {weights}")
    print(f"{'track':8s} {'condition':26s} {'nDCG@5':>7s} {'Δ vs a':>7s} {'MRR':>7s} "
          f"{'R@10':>7s} {'needs':>6s}")
    base = runs["(a) without proven"]
    for kind in KINDS:
        for name, report in runs.items():
            f = report.tracks[kind]
            delta = f["ndcg@5"] - base.tracks[kind]["ndcg@5"]
            print(f"{kind:8s} {name:26s} {f['ndcg@5']:7.4f} {delta:+7.4f} {f['mrr']:7.4f} "
                  f"{f['recall@10']:7.4f} {f['needs']:6d}")
    engine.close()
    other.close()
    print(json.dumps({"seed": args.seed, "shown": args.shown, "history": dict(counts),
                      "ndcg@5": {name: {kind: round(r.tracks[kind]["ndcg@5"], 4)
                                        for kind in KINDS} for name, r in runs.items()}}))


if __name__ == "__main__":
    main()
