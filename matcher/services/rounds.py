"""Match rounds: propose matches for every open need of some regions at once.

A round gathers each open need's admissible candidates (the engine's shortlist, past every
hard rule), drops the pairs already matched or rejected and the weak ones, and lets
:func:`matcher.workflow.rounds.solve` choose under capacity and fairness. Every round's
report is kept; unless it is a dry run, its proposals are written with it, all or nothing,
each with its reasons in every page language, and go to the review queue like any other
proposed match.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from matcher import policy
from matcher.errors import InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.reference import UI_LANGUAGES
from matcher.vocabulary import HOLDING_CAPACITY, KINDS
from matcher.workflow import rounds
from matcher.workflow.rounds import Candidate, Limits

Progress = Callable[[str, int, int], None]  # step, done, of


@dataclass
class Gathered:
    """What the round chooses among, and what it knows of each need."""

    candidates: list[Candidate] = field(default_factory=list)
    admissible: Counter = field(default_factory=Counter)  # need -> items past the rules
    strong_enough: Counter = field(default_factory=Counter)  # need -> candidates not weak
    scores: dict[tuple[str, str, str], float] = field(default_factory=dict)


def run(engine: Engine, who: Principal, *, regions: list[str] | None = None,
        per_need: int | None = None, kinds: tuple[str, ...] = KINDS, dry_run: bool = False,
        progress: Progress | None = None) -> dict:
    """Run a round for ``who`` (a coordinator over its regions, an admin over any); its
    report, kept under ``round_id``. A dry run chooses and reports, and proposes nothing."""
    settings = engine.settings
    per_need = per_need or settings.round_per_need
    if not 1 <= per_need <= 20:
        raise InvalidInput("per_need must be between 1 and 20", field="per_need")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise InvalidInput(f"kinds must be among {', '.join(KINDS)}", field="kinds")
    wrong = [r for r in regions or [] if r not in engine.ref.regions]
    if wrong:
        raise InvalidInput("unknown region", field="regions")
    covered = policy.round_regions(who, regions, list(engine.ref.regions))
    tell = progress or (lambda step, done, total: None)
    started = time.perf_counter()

    corpus = engine.corpus()
    needs = sorted(nid for nid, need in corpus.needs.items()
                   if corpus.associations[need["association_id"]].get("region") in covered)
    open_matches = engine.store.open_matches()
    slots = _slots(needs, open_matches, per_need)
    limits = Limits(slots, _offering_room(engine, corpus, open_matches),
                    _teacher_room(corpus, open_matches, settings.round_per_teacher))
    taken = {(m["need_id"], m["kind"], m["item_id"]) for m in open_matches}
    todo = [n for n in needs if slots[n] > 0]
    gathered = _gather(engine, todo, kinds, taken, settings.round_shortlist, tell)

    tell("solve", 0, 1)
    plan = rounds.solve(gathered.candidates, limits)
    baseline = rounds.greedy(gathered.candidates, limits)
    tell("solve", 1, 1)
    report = _report(engine, todo, gathered, plan, baseline, per_need, covered)
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["dry_run"] = dry_run
    rows = [] if dry_run else _rows(engine, plan, gathered, tell)
    round_id = engine.store.create_round(
        report, rows, regions=covered, per_need=per_need, actor=who.actor,
        role=who.role.value, actor_org=who.association_id or who.partner_id)
    return {**report, "round_id": round_id}


def get(engine: Engine, who: Principal, round_id: int) -> dict:
    """A round's report, for admins and the coordinators of all its regions."""
    found = engine.store.get_round(round_id)
    if not policy.can_see_round(who, found["regions"]):
        raise NotFound(f"no round with id {round_id}")
    return {**found["report"], "round_id": found["id"], "regions": found["regions"],
            "created_at": found["created_at"], "per_need": found["per_need"]}


def match_ids(engine: Engine, who: Principal, round_id: int) -> list[int]:
    """The matches a round proposed (for reviewing the whole round at once)."""
    return list(get(engine, who, round_id).get("match_ids", []))


# ---------------------------------------------------------------------- the parts
def _slots(needs: list[str], open_matches: list[dict], per_need: int) -> dict[str, int]:
    have = Counter(m["need_id"] for m in open_matches)
    return {n: max(0, per_need - have[n]) for n in needs}


def _offering_room(engine: Engine, corpus, open_matches: list[dict]) -> dict[str, int | None]:
    """Slots each offering has left: its capacity less the matches holding one and those
    proposed (they will hold one once approved); None for no capacity limit."""
    pending = Counter(m["item_id"] for m in open_matches if m["kind"] == "partner"
                      and (m["status"] in HOLDING_CAPACITY or m["status"] == "proposed"))
    room: dict[str, int | None] = {}
    for record in corpus.block("partner").records:
        capacity = record.get("capacity")
        room[record["id"]] = None if capacity is None else max(0, capacity - pending[record["id"]])
    return room


def _teacher_room(corpus, open_matches: list[dict], most: int) -> dict[str, int | None]:
    busy = Counter(m["owner_id"] for m in open_matches if m["kind"] == "peer")
    return {aid: max(0, most - busy[aid]) for aid in corpus.associations}


def _gather(engine: Engine, needs: list[str], kinds: tuple[str, ...],
            taken: set[tuple[str, str, str]], shortlist: int, tell: Progress) -> Gathered:
    found = Gathered()
    for done, need_id in enumerate(needs):
        if done % 50 == 0:
            tell("candidates", done, len(needs))
        for kind in kinds:
            result = engine.suggest(need_id, kind, limit=shortlist, explained=False)
            found.admissible[need_id] += result.admissible
            for s in result.suggestions:
                if (need_id, kind, s.item_id) in taken:
                    continue
                if s.strength_label == "weak":
                    continue
                found.strong_enough[need_id] += 1
                value = s.strength if s.strength is not None else max(s.score, 0.0)
                found.candidates.append(Candidate(need_id, kind, s.item_id, s.owner_id, value))
                found.scores[(need_id, kind, s.item_id)] = s.score
    tell("candidates", len(needs), len(needs))
    return found


def _report(engine: Engine, needs: list[str], gathered: Gathered, plan: rounds.Plan,
            baseline: rounds.Plan, per_need: int, regions: list[str]) -> dict:
    served = plan.served
    unserved = []
    for need_id in needs:
        if need_id in served:
            continue
        if gathered.admissible[need_id] == 0:
            why = rounds.NO_CANDIDATE
        elif gathered.strong_enough[need_id] == 0:
            why = rounds.ONLY_WEAK
        else:
            why = rounds.CAPACITY_TAKEN
        unserved.append({"need_id": need_id, "why": why})
    measure = "strength" if engine.calibration.kinds else "score"
    proposals = [{"need_id": c.need_id,
                  ("offering_id" if c.kind == "partner" else "practice_id"): c.item_id,
                  measure: round(c.value, 4)} for c in plan.chosen]
    loads = Counter(c.owner_id for c in plan.chosen if c.kind == "partner")
    partners_offering = {c.owner_id for c in gathered.candidates if c.kind == "partner"}
    return {
        "regions": regions, "per_need": per_need, "needs": len(needs),
        "needs_served": len(served), "proposals": proposals, "unserved": unserved,
        "capacity_used": sum(1 for c in plan.chosen if c.kind == "partner"),
        "partner_load_gini": round(rounds.gini([loads[p] for p in partners_offering]), 4),
        "total": round(plan.total, 4),
        "greedy": {"needs_served": len(baseline.served), "total": round(baseline.total, 4)},
        "worst_decile": {"round": round(rounds.worst_decile(plan, needs), 4),
                         "greedy": round(rounds.worst_decile(baseline, needs), 4)},
    }


def _rows(engine: Engine, plan: rounds.Plan, gathered: Gathered, tell: Progress
          ) -> list[dict]:
    """The proposals as match rows, each with its reasons in every page language."""
    chosen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in plan.chosen:
        chosen[(c.need_id, c.kind)].append(c.item_id)
    corpus = engine.corpus()
    rows = []
    for done, ((need_id, kind), items) in enumerate(sorted(chosen.items())):
        if done % 50 == 0:
            tell("explain", done, len(chosen))
        explained = {lang: {s.item_id: s for s in engine.suggest(
            need_id, kind, limit=len(items), lang=lang, only=items).suggestions}
            for lang in UI_LANGUAGES}
        category = engine.need_category(need_id)[0]
        association_id = corpus.needs[need_id]["association_id"]
        for item_id in items:
            english = explained["en"].get(item_id)
            if english is None:  # no longer passes a rule: left out of the round
                continue
            rows.append({
                "kind": kind, "need_id": need_id, "association_id": association_id,
                "item_id": item_id, "owner_id": english.owner_id,
                "score": gathered.scores[(need_id, kind, item_id)], "category": category,
                "reasons": english.reasons, "contributions": english.contributions,
                "reasons_by_language": {lang: found[item_id].reasons
                                        for lang, found in explained.items() if item_id in found},
                "redacted": engine.is_sensitive(need_id),
                "strength": english.strength, "strength_label": english.strength_label,
            })
    tell("explain", len(chosen), len(chosen))
    return rows
