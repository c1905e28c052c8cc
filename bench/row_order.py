"""Would offerings stored by region make a partner suggestion's vector rows cheaper?

    python bench/row_order.py [--db PATH] [--needs-sampled 200] [--rounds 5]
                              [--random-vectors e5-multilingual,minilm]

A partner suggestion reads each embedder's rows of its candidates (``plugins.semantic.
rows_dot``): about 2,400 rows scattered over the 10,000 of the scale set, gathered a cache-full
at a time. The idea measured here: store the offerings in the order the region rule selects
them (open to every region first, then by region), so that a need's candidates fall in a few
spans, and multiply the spans where they are dense as they lie, without gathering.

It records every ``rows_dot`` call of real partner suggestions (random needs), then replays
them three ways, timing each per suggestion (medians of ``--rounds``):
- the gather as today;
- spans in today's order;
- spans over the rows reordered by region.
It prints how many spans a call has and how dense they are. Timing only: the scores are not
compared (the same rows' dot products, in another order).
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import typer
from rich.console import Console

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from latency import (  # noqa: E402
    Associations,
    Embedders,
    Needs,
    Offerings,
    Practices,
    RandomVectors,
    ScaleDb,
    embedder_names,
    prepared_scale_db,
)

console = Console()
GAP = 32  # rows further apart than this start a new span


def span_dot(matrix: np.ndarray, rows: np.ndarray, vector: np.ndarray, gather) -> tuple[
        np.ndarray, list[float]]:
    """``matrix[rows] @ vector`` for sorted ``rows``, span by span: a span at least half
    full is multiplied as it lies (a view, no copy), a sparser one gathered; the values, and
    each span's density."""
    breaks = np.flatnonzero(np.diff(rows) > GAP) + 1
    starts, stops = np.r_[0, breaks], np.r_[breaks, len(rows)]
    out = np.empty(len(rows), dtype=np.result_type(matrix, vector))
    density = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        low, high = int(rows[start]), int(rows[stop - 1]) + 1
        density.append((stop - start) / (high - low))
        if density[-1] >= 0.5:
            out[start:stop] = (matrix[low:high] @ vector)[rows[start:stop] - low]
        else:
            out[start:stop] = gather(matrix, rows[start:stop], vector)
    return out, density


def main(
    offerings: Offerings = 10_000,
    practices: Practices = 10_000,
    associations: Associations = 500,
    needs: Needs = 1_000,
    seed: int = 0,
    db: ScaleDb = None,
    embedders: Embedders = None,
    random_vectors: RandomVectors = None,
    needs_sampled: Annotated[int, typer.Option(min=1, help="partner suggestions recorded")] = 200,
    rounds: Annotated[int, typer.Option(min=1, help="replays of each way; medians shown")] = 5,
) -> None:
    """Time the gather of a partner suggestion's rows against spans, in today's order and
    in region order."""
    from matcher.principals import Principal, Role
    from matcher.ranking.engine import Engine
    from matcher.services import suggestions
    from matcher.settings import load_settings
    from plugins import semantic

    names = embedder_names(embedders)
    db, _ = prepared_scale_db(offerings, practices, associations, needs, seed, db, names,
                              random_vectors)
    engine = Engine(load_settings(db=db, embedders=names))
    engine.warm_up()
    corpus = engine.corpus()
    block = corpus.offerings

    calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    gather = semantic.rows_dot

    def recording(matrix, rows, vector, split=None):
        calls.append((matrix, np.asarray(rows), vector))
        return gather(matrix, rows, vector, split)

    semantic.rows_dot = recording
    try:
        random.seed(seed)
        for need_id in random.sample(sorted(corpus.needs), min(needs_sampled, len(corpus.needs))):
            suggestions.for_need(engine, Principal(role=Role.ADMIN), need_id, "partner", 10)
    finally:
        semantic.rows_dot = gather
    calls = [c for c in calls if len(c[1])]

    regions = block.arrays["regions"]
    key = np.where(block.arrays["regions_any"], -1,
                   np.where(regions.any(axis=1), regions.argmax(axis=1), len(corpus.regions)))
    reordered: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def by_region(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``matrix`` with its rows in region order, and each old row's new place. A matrix
        of an embedder's own languages' rows (not the block's length) is matched to them."""
        if id(matrix) not in reordered:
            if len(matrix) == len(block):
                own = np.arange(len(block))
            else:
                state = next(s for s in block.state.values()
                             if isinstance(s, dict) and s.get("own_rows") is matrix)
                own = np.flatnonzero(state["in_languages"])
            order = np.argsort(key[own], kind="stable")
            place = np.empty(len(order), dtype=np.int64)
            place[order] = np.arange(len(order))
            reordered[id(matrix)] = (np.ascontiguousarray(matrix[order]), place)
        return reordered[id(matrix)]

    replay = [(matrix, rows, vector, *by_region(matrix)) for matrix, rows, vector in calls]
    sorted_rows = [np.sort(place[rows]) for _, rows, _, _, place in replay]
    ways = {
        "gather (today)": lambda: [gather(m, r, v) for m, r, v, _, _ in replay],
        "spans, today's order": lambda: [span_dot(m, r, v, gather) for m, r, v, _, _ in replay],
        "spans, region order": lambda: [span_dot(o, s, v, gather) for (_, _, v, o, _), s
                                        in zip(replay, sorted_rows, strict=True)],
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name].append((time.perf_counter() - start) / needs_sampled * 1000)
    spans = [span_dot(o, s, v, gather)[1] for (_, _, v, o, _), s in zip(replay, sorted_rows,
                                                                        strict=True)]
    console.print(f"db {db}: {len(block):,} offerings, {len(calls)} row reads over "
                  f"{needs_sampled} partner suggestions, {np.mean([len(c[1]) for c in calls]):.0f} "
                  f"rows each on average")
    console.print(f"region order: {np.mean([len(s) for s in spans]):.1f} spans a read, "
                  f"{np.mean([d >= 0.5 for s in spans for d in s]):.0%} of them at least half "
                  f"full")
    for name, values in times.items():
        console.print(f"{name:22s} {np.median(values):.3f} ms per suggestion "
                      f"(min {min(values):.3f}, max {max(values):.3f}; {rounds} rounds)")


if __name__ == "__main__":
    typer.run(main)
