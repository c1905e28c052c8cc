"""Match rounds: choose a set of proposals for many needs at once, under capacity and fairness.

The choice is a min-cost flow (OR-tools, as OpenReview's matcher solves reviewer assignment),
whose costs make two lexicographic goals one, as FairFlow's max-min objective does:

1. serve as many needs as possible, each with at least one proposal (a need gets a second
   proposal only if that keeps no other need from its first);
2. among those plans, maximise the total strength of the proposals.

Subject to: at most ``slots`` proposals per need, each offering's remaining capacity, and each
teaching association's remaining room for open peer matches. Candidates come from the engine,
already past the hard rules (rejected pairs and open matches excluded). :func:`greedy` is the
per-need top-k baseline the benchmark compares with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

# Why a need got nothing in a round.
NO_CANDIDATE = "no_admissible_candidate"
ONLY_WEAK = "only_weak_candidates"
CAPACITY_TAKEN = "capacity_taken"
NO_ROOM = "need_has_enough_open_matches"
WHY = (NO_CANDIDATE, ONLY_WEAK, CAPACITY_TAKEN, NO_ROOM)
SCALE = 1000  # values are compared in thousandths


@dataclass(frozen=True)
class Candidate:
    """An admissible pair: ``item_id`` (an offering or a practice) for ``need_id``."""

    need_id: str
    kind: str        # partner | peer
    item_id: str
    owner_id: str    # the partner, or the teaching association
    value: float     # what the round maximises: the strength (or the fused score)


@dataclass
class Limits:
    """What the round may still use: proposals per need, and the capacity of items and owners
    (an item or owner missing from its mapping, or mapped to None, is unlimited)."""

    slots: Mapping[str, int]
    item_capacity: Mapping[str, int | None] = field(default_factory=dict)
    owner_capacity: Mapping[str, int | None] = field(default_factory=dict)


@dataclass
class Plan:
    chosen: list[Candidate]

    @property
    def served(self) -> set[str]:
        return {c.need_id for c in self.chosen}

    @property
    def total(self) -> float:
        return float(sum(c.value for c in self.chosen))


def solve(candidates: Sequence[Candidate], limits: Limits) -> Plan:
    """The fair plan of maximal total value (see the module's docstring), as a min-cost flow
    (OR-tools): source → need (a first unit worth more than every value together, then
    ``slots - 1`` more) → item → owner → sink, the capacities on the item and owner arcs, and
    a bypass from source to sink for what is left unassigned. Network flows have integral
    optima, so the plan is exact; values are compared to 1/1000."""
    pairs = [c for c in candidates if limits.slots.get(c.need_id, 0) > 0]
    if not pairs:
        return Plan([])
    needs = sorted({c.need_id for c in pairs})
    items = sorted({c.item_id for c in pairs})
    owners = sorted({c.owner_id for c in pairs})
    source, sink = 0, 1
    need_node = {n: 2 + i for i, n in enumerate(needs)}
    item_node = {it: 2 + len(needs) + i for i, it in enumerate(items)}
    owner_node = {o: 2 + len(needs) + len(items) + i for i, o in enumerate(owners)}
    supply = sum(limits.slots[n] for n in needs)
    values = np.rint(np.array([c.value for c in pairs]) * SCALE).astype(np.int64)
    first = int(max(values.max(initial=0), 0)) * supply + 1  # one more need served beats all

    flow = min_cost_flow.SimpleMinCostFlow()
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []

    def arc(tail: int, head: int, capacity: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(capacity)
        costs.append(cost)

    for n in needs:
        arc(source, need_node[n], 1, -first)
        if limits.slots[n] > 1:
            arc(source, need_node[n], limits.slots[n] - 1, 0)
    start = len(tails)
    for c, value in zip(pairs, values, strict=True):
        arc(need_node[c.need_id], item_node[c.item_id], 1, -int(value))
    owner_of = {c.item_id: c.owner_id for c in pairs}
    for it in items:
        capacity = limits.item_capacity.get(it)
        arc(item_node[it], owner_node[owner_of[it]],
            supply if capacity is None else max(0, int(capacity)), 0)
    for o in owners:
        capacity = limits.owner_capacity.get(o)
        arc(owner_node[o], sink, supply if capacity is None else max(0, int(capacity)), 0)
    arc(source, sink, supply, 0)  # what stays unassigned
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails), np.array(heads), np.array(caps), np.array(costs))
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"the round's solver failed (status {status})")
    assigned = flow.flows(np.arange(start, start + len(pairs)))
    return Plan([c for c, f in zip(pairs, assigned, strict=True) if f > 0])


def greedy(candidates: Sequence[Candidate], limits: Limits) -> Plan:
    """The baseline: need by need (in id order), its best candidates first, while capacity
    lasts."""
    items = dict(limits.item_capacity)
    owners = dict(limits.owner_capacity)
    by_need: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_need[c.need_id].append(c)
    chosen = []
    for need in sorted(by_need):
        room = limits.slots.get(need, 0)
        for c in sorted(by_need[need], key=lambda c: -c.value):
            if room <= 0:
                break
            if items.get(c.item_id) is not None and items[c.item_id] <= 0:
                continue
            if owners.get(c.owner_id) is not None and owners[c.owner_id] <= 0:
                continue
            chosen.append(c)
            room -= 1
            if items.get(c.item_id) is not None:
                items[c.item_id] -= 1
            if owners.get(c.owner_id) is not None:
                owners[c.owner_id] -= 1
    return Plan(chosen)


def gini(loads: Sequence[float]) -> float:
    """How unevenly proposals fall on partners: 0 when even, towards 1 when one takes all."""
    values = np.sort(np.asarray(loads, dtype=float))
    if len(values) == 0 or values.sum() == 0:
        return 0.0
    n = len(values)
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))


def worst_decile(plan: Plan, needs: Sequence[str]) -> float:
    """The mean best value among the worst-served tenth of ``needs`` (0 for a need served
    nothing): how well a round treats the needs it treats worst."""
    best: dict[str, float] = {}
    for c in plan.chosen:
        best[c.need_id] = max(best.get(c.need_id, 0.0), c.value)
    values = np.sort([best.get(n, 0.0) for n in needs])
    if len(values) == 0:
        return 0.0
    return float(values[:max(1, len(values) // 10)].mean())
