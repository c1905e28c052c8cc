"""A region's dashboard for its coordinators (admins: any region, or all): open needs, the
needs no partner offering can serve now, matches by status, how often associations accept an
introduction, and how long a proposal takes to become one. Knows nothing about HTTP.

- **Open need**: a need none of whose matches has reached an introduction yet.
- **Without a viable offering**: an open need for which no partner offering passes the engine's
  hard rules now (region, country, minerals, eligibility, active, validity, capacity, pairs
  already rejected), so that no partner suggestion can be made for it at all.
- **Unserved needs**: open needs whose partner suggestions, when last worked out, had none
  at least ``good`` (:func:`matcher.services.suggestions.note_unserved`), grouped by topic
  and region: the partners to recruit. A confidential need shows its neutral summary only.
- **Acceptance rate**: of the introductions the associations answered, the share they accepted
  (accepted ÷ (accepted + declined)); None before any answer.
- **Days to introduction**: the median time from a match's proposal to the association's
  acceptance, over the matches introduced so far; None before the first.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from matcher.errors import Forbidden, InvalidInput
from matcher.principals import Principal, Role
from matcher.ranking import filters
from matcher.vocabulary import STATES
from matcher.workflow.sensitive import neutral_summary


@dataclass
class UnservedGroup:
    """The unserved needs of one topic in one region."""

    category: str
    region: str
    needs: list[dict]  # id, text (a confidential need's: its neutral summary), redacted, ...


@dataclass
class Dashboard:
    """The figures of one region (or of several: ``regions``)."""

    regions: list[str]
    needs: int = 0
    open_needs: int = 0
    without_offering: list[dict] = field(default_factory=list)  # open needs, as region_needs
    by_status: dict[str, int] = field(default_factory=dict)  # every state, in lifecycle order
    by_category: dict[str, int] = field(default_factory=dict)  # open needs, most first
    accepted: int = 0
    declined: int = 0
    introduced: int = 0
    acceptance_rate: float | None = None
    median_days_to_introduction: float | None = None
    unserved: list[UnservedGroup] = field(default_factory=list)  # most needs first

    @property
    def matches(self) -> int:
        return sum(self.by_status.values())


def regions_for(who: Principal, all_regions: list[str]) -> list[str]:
    """The regions ``who`` may see a dashboard of: a coordinator's own; every one for admins."""
    if who.is_admin:
        return list(all_regions)
    if who.role is Role.COORDINATOR:
        return [r for r in all_regions if r in who.regions]
    raise Forbidden("only coordinators and admins see the dashboard")


def unserved(engine, who: Principal, region: str | None = None, lang: str = "en"
             ) -> tuple[list[str], list[UnservedGroup]]:
    """The regions covered and their unserved needs by topic and region (``region``: one of
    ``who``'s, or all of them)."""
    regions = _regions(engine, who, region)
    return regions, unserved_groups(engine, regions, lang)


def _regions(engine, who: Principal, region: str | None) -> list[str]:
    allowed = regions_for(who, list(engine.ref.regions))
    if region is not None and region not in allowed:
        raise InvalidInput(f"region is one of: {', '.join(allowed)}", field="region")
    return [region] if region is not None else allowed


def summary(engine, who: Principal, region: str | None = None, lang: str = "en") -> Dashboard:
    """The dashboard of ``region`` (one of ``who``'s), or of all ``who``'s regions (``lang``:
    the language of a confidential need's neutral summary)."""
    regions = _regions(engine, who, region)
    store = engine.store
    needs = store.region_needs(regions)
    open_needs = [n for n in needs if not n["introduced"]]
    statuses = store.match_status_counts(regions)
    accepted, declined = store.introduction_answers(regions)
    times = store.introduction_times(regions)
    categories: dict[str, int] = {}
    for need in open_needs:
        category = need["category"] or engine.need_category(need["id"])[0]
        categories[category] = categories.get(category, 0) + 1
    return Dashboard(
        regions=regions, needs=len(needs), open_needs=len(open_needs),
        without_offering=[n for n in open_needs if not viable_offerings(engine, n["id"])],
        by_status={status: statuses.get(status, 0) for status in STATES},
        by_category=dict(sorted(categories.items(), key=lambda item: (-item[1], item[0]))),
        accepted=accepted, declined=declined, introduced=len(times),
        acceptance_rate=accepted / (accepted + declined) if accepted + declined else None,
        median_days_to_introduction=statistics.median(_days(a, b) for a, b in times)
        if times else None,
        unserved=unserved_groups(engine, regions, lang),
    )


def unserved_groups(engine, regions: list[str], lang: str = "en") -> list[UnservedGroup]:
    """The regions' unserved needs by topic and region, the largest group first."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for need in engine.store.unserved_needs(regions):
        category = need["category"] or engine.need_category(need["id"])[0]
        if need["confidential"]:
            need = {**need, "association_id": None, "association_name": None,
                    "text": neutral_summary(category, need, engine.ref, lang)}
        groups.setdefault((category, need["region"]), []).append(
            {**need, "redacted": need["confidential"]})
    return [UnservedGroup(category, region, needs) for (category, region), needs in
            sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))]


def viable_offerings(engine, need_id: str) -> int:
    """How many partner offerings pass every hard rule for the need now."""
    return len(filters.allowed(engine.hard_rules(need_id, "partner")))


def _days(start: str, end: str) -> float:
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return delta.total_seconds() / 86400
