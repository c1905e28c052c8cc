"""A whole-network match round at scale, against per-need greedy top-k in the same run.

    python bench/rounds.py [--needs 10000] [--offerings 10000] [--practices 0]
                           [--db PATH] [--embedders use-multilingual] [--per-need 2]

Builds the synthetic scale set (bench/scale.py: random capacities, regions, eligibility),
imports and embeds it (reused when the file already holds it), builds the corpus, then runs
one dry-run round over every region as an admin (:func:`matcher.services.rounds.run`): the
candidates of each need (the engine's shortlist past the hard rules), the min-cost-flow
solve, and greedy per-need top-k over the same candidates. Prints the time of each step, the
peak memory, and for both plans: needs served, total strength, the worst-served decile and the
partner-load Gini.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import prepare_db  # noqa: E402
from scale import build_scale_set  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(needs: Annotated[int, typer.Option(min=1)] = 10_000,
         offerings: Annotated[int, typer.Option(min=1)] = 10_000,
         practices: Annotated[int, typer.Option(min=0)] = 0,
         associations: Annotated[int, typer.Option(min=1)] = 500,
         per_need: Annotated[int, typer.Option(min=1, max=20)] = 2,
         db: Annotated[Path | None, typer.Option(help="SQLite file to build or reuse")] = None,
         embedders: Annotated[str, typer.Option(
             help="comma-separated embedders (the bench's default: USE alone, for speed)")
         ] = "use-multilingual",
         rebuild: bool = False) -> None:
    from matcher.principals import Principal, Role
    from matcher.ranking.engine import Engine
    from matcher.services import rounds
    from matcher.settings import load_settings

    names = [e for e in embedders.split(",") if e]
    db = db or Path(tempfile.gettempdir()) / f"rounds-{needs}x{offerings}x{practices}.db"
    doc = build_scale_set(offerings=offerings, practices=practices,
                          associations=associations, needs=needs)
    figures = prepare_db(db, json.dumps(doc), names, rebuild)
    print(f"set: {needs} needs, {offerings} offerings, {practices} practices "
          f"({'reused' if figures.get('reused') else 'imported and embedded'}, "
          f"embedders {', '.join(names)})")

    engine = Engine(load_settings(db=db, embedders=names))
    start = time.perf_counter()
    engine.corpus()
    print(f"corpus build: {time.perf_counter() - start:.1f} s, RSS {_rss_mb():.0f} MB")

    steps: dict[str, float] = {}
    started = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        steps[step] = time.perf_counter() - started
        if done == total:
            print(f"  {step}: {done}/{total} at {steps[step]:.1f} s", flush=True)

    kinds = ("partner",) if practices == 0 else ("partner", "peer")
    report = rounds.run(engine, Principal(role=Role.ADMIN, label="user bench"),
                        per_need=per_need, kinds=kinds, dry_run=True, progress=progress)
    total = time.perf_counter() - started
    print(f"round (dry run, {', '.join(kinds)}): {total:.1f} s in all "
          f"(candidates {steps.get('candidates', 0):.1f} s, solve and greedy "
          f"{steps.get('solve', 0) - steps.get('candidates', 0):.1f} s); "
          f"peak RSS {_rss_mb():.0f} MB")
    served, greedy = report["needs_served"], report["greedy"]
    print(f"needs with room: {report['needs']}")
    print(f"{'':12}{'served':>10}{'total':>12}{'worst decile':>14}")
    print(f"{'round':12}{served:>10}{report['total']:>12.1f}"
          f"{report['worst_decile']['round']:>14.3f}")
    print(f"{'greedy':12}{greedy['needs_served']:>10}{greedy['total']:>12.1f}"
          f"{report['worst_decile']['greedy']:>14.3f}")
    why: dict[str, int] = {}
    for u in report["unserved"]:
        why[u["why"]] = why.get(u["why"], 0) + 1
    print(f"unserved by reason: {why}")
    print(f"offering slots used: {report['capacity_used']}, "
          f"partner-load Gini {report['partner_load_gini']}")


if __name__ == "__main__":
    typer.run(main)
