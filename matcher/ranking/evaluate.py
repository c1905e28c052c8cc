"""Offline evaluation on a labelled set laid out like ``bench/dev`` (dataset.json + qrels.json).

Ranking metrics come from ranx; they are defined as in the set's ``build_check.py``: nDCG@5 with
linear gains, Recall@10 over grades >= 1, MRR of the first grade >= 2 item averaged over the needs
that have one. The run written here is the input ``build_check.py --score`` reads.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from matcher.language import detect_language
from matcher.ranking.engine import Engine

RUN_DEPTH = 50


@dataclass
class EvalReport:
    tracks: dict[str, dict[str, float]] = field(default_factory=dict)
    by_language: dict[str, dict[str, tuple[float, int]]] = field(default_factory=dict)
    run: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def make_run(engine: Engine, need_ids: list[str], depth: int = RUN_DEPTH,
             weights: dict[str, dict[str, float]] | None = None,
             step: Callable[[str, int, int], None] | None = None,
             ) -> dict[str, dict[str, list[str]]]:
    """Ranked ids per need and track, as ``build_check.py --score`` reads them; ``step`` is
    told ``(track, needs done, needs)`` as it goes."""
    run: dict[str, dict[str, list[str]]] = {"partner": {}, "peer": {}}
    for kind in ("partner", "peer"):
        if step:
            step(f"ranking ({kind})", 0, len(need_ids))
        for done, need_id in enumerate(need_ids, 1):
            result = engine.suggest(need_id, kind, depth, (weights or {}).get(kind))
            run[kind][need_id] = [s.item_id for s in result.suggestions]
            if step:
                step(f"ranking ({kind})", done, len(need_ids))
    return run


def _violations(lists: dict[str, list[str]], bad: dict[str, set[str]]) -> tuple[float, float]:
    slots = hits = needs_hit = 0
    for need_id, ranked in lists.items():
        top = ranked[:10]
        slots += len(top)
        n = sum(1 for item in top if item in bad.get(need_id, set()))
        hits += n
        needs_hit += n > 0
    return (hits / slots if slots else 0.0), (needs_hit / len(lists) if lists else 0.0)


def score_run(run: dict[str, dict[str, list[str]]], qrels: dict, dataset: dict) -> EvalReport:
    """Metrics per track, violation rates, and nDCG@5 per need language."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ranx import Qrels, Run, evaluate

    needs = {n["id"]: (n["text"], a["id"]) for a in dataset["associations"] for n in a["needs"]}
    own = defaultdict(set)
    for a in dataset["associations"]:
        for p in a["practices"]:
            own[a["id"]].add(p["id"])
    own_by_need = {nid: own[aid] for nid, (_, aid) in needs.items()}
    forbidden = {nid: set(items) for nid, items in qrels.get("forbidden", {}).items()}
    report = EvalReport(run=run)
    for kind, key in (("partner", "partner_qrels"), ("peer", "peer_qrels")):
        labels = {nid: grades for nid, grades in qrels[key].items() if grades}
        ranked = {nid: run[kind].get(nid, []) for nid in labels}
        ranx_run = Run({nid: {item: float(len(items) - i) for i, item in
                              enumerate(dict.fromkeys(items))} or {"∅": 0.0}
                        for nid, items in ranked.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            main = evaluate(Qrels(labels), ranx_run, ["ndcg@5", "recall@10"],
                            make_comparable=True)
            strong = {nid: g for nid, g in labels.items() if max(g.values()) >= 2}
            strong_run = Run({nid: ranx_run[nid] for nid in strong})
            mrr = evaluate(Qrels(strong), strong_run, "mrr-l2", make_comparable=True)
        bad = forbidden if kind == "partner" else own_by_need
        rate, share = _violations(run[kind], bad)
        report.tracks[kind] = {
            "ndcg@5": float(main["ndcg@5"]), "recall@10": float(main["recall@10"]),
            "mrr": float(mrr), "violations@10": rate, "needs_with_violation@10": share,
            "needs": len(labels),
        }
        per_need = ranx_run.scores["ndcg@5"]
        groups: dict[str, list[float]] = defaultdict(list)
        for nid, value in per_need.items():
            groups[detect_language(needs[nid][0])].append(float(value))
        report.by_language[kind] = {lang: (sum(v) / len(v), len(v))
                                    for lang, v in sorted(groups.items())}
    return report


def load_set(folder: Path) -> tuple[dict, dict]:
    with open(folder / "dataset.json", encoding="utf-8") as fh:
        dataset = json.load(fh)
    with open(folder / "qrels.json", encoding="utf-8") as fh:
        qrels = json.load(fh)
    return dataset, qrels
