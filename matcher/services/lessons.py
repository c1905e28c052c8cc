"""Lessons: what an exchange taught, told by each side once its outcome is recorded, and the
practice library they feed.

Who writes which side of a match's lesson:

===========  ===============================================================
side         who
===========  ===============================================================
association  the match's association (the one whose need it was)
counterpart  the offering's partner, or the peer association whose practice it was
coordinator  the region's coordinators and admins; they may also complete or edit any
             side (``side`` given)
===========  ===============================================================

The match must be at or past ``outcome_recorded`` (else Conflict). Posting again from a side
updates that side's lesson.

Who reads a lesson (:func:`can_read`): everyone signed in, once it is published. A lesson of a
confidential need (``needs.confidential`` or ``matches.redacted``, see
:mod:`matcher.workflow.sensitive`) is not published until its association publishes it; until
then only the association, its region's coordinators, admins (and the side that wrote it) read
it. Outside those, a lesson of a confidential need never names its association: no id, name or
country; the regional network only (:func:`view`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from matcher import policy
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.language import KNOWN_LANGUAGES, detect_language
from matcher.principals import Principal, Role
from matcher.store import Claim, LessonQuery
from matcher.workflow import lifecycle

SIDES = ("association", "counterpart", "coordinator")
MAX_LESSON = 4000  # characters of a lesson's text
MAX_FIGURES = 12  # named numbers of one lesson
MAX_FIGURE = 1e12  # the largest figure (in absolute value)
FIGURE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass
class Filters:
    """The library's and the list's filters (all optional)."""

    q: str | None = None
    category: str | None = None
    region: str | None = None
    commodity: str | None = None
    language: str | None = None
    limit: int = 50
    offset: int = 0


# ---------------------------------------------------------------------- validation
def check_figures(figures) -> dict[str, float | int]:
    """A lesson's figures: a JSON object of at most :data:`MAX_FIGURES` named numbers
    (``members_trained``, ``mercury_saved_kg``...: lower-case words and digits joined by
    ``_``), each finite and at most :data:`MAX_FIGURE` in size."""
    if figures is None:
        return {}
    if not isinstance(figures, dict):
        raise InvalidInput("figures are an object of named numbers", field="figures")
    if len(figures) > MAX_FIGURES:
        raise InvalidInput(f"at most {MAX_FIGURES} figures", field="figures")
    checked: dict[str, float | int] = {}
    for name, value in figures.items():
        if not isinstance(name, str) or not FIGURE_NAME.match(name):
            raise InvalidInput("a figure's name is lower-case letters, digits and _ (at most "
                               "40, starting with a letter), e.g. members_trained",
                               field="figures")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_FIGURE:
            raise InvalidInput(f"each figure is a number, at most {MAX_FIGURE:.0e} in size",
                               field="figures")
        checked[name] = value
    return checked


def _check_text(text) -> str:
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput("a lesson needs some text: what you did, what worked, what you "
                           "would do differently", field="text")
    if len(text) > MAX_LESSON:
        raise InvalidInput(f"at most {MAX_LESSON} characters", field="text")
    return text


def _check_language(language: str | None, text: str) -> str:
    if language is None:
        return detect_language(text)
    if language not in KNOWN_LANGUAGES:
        raise InvalidInput(f"a language is one of: {', '.join(KNOWN_LANGUAGES)}",
                           field="language")
    return language


# ---------------------------------------------------------------------- who is which side
def own_side(who: Principal, match: dict) -> str | None:
    """The side ``who`` writes for on ``match`` by itself (None: none)."""
    if who.role is Role.ASSOCIATION and who.association_id == match["association_id"]:
        return "association"
    if (who.role is Role.PARTNER and match["kind"] == "partner"
            and who.partner_id == match["owner_id"]):
        return "counterpart"
    if (who.role is Role.ASSOCIATION and match["kind"] == "peer"
            and who.association_id == match["owner_id"]):
        return "counterpart"
    return None


def _reviewer(who: Principal, association: dict | None) -> bool:
    return who.is_admin or (association is not None
                            and who.covers_region(association.get("region")))


def writable(engine, who: Principal, match: dict) -> bool:
    """Whether ``who`` may write a lesson of ``match`` now (it may see the match)."""
    if match["status"] not in ("outcome_recorded", "closed") or match.get("outcome") is None:
        return False
    association = engine.store.get("associations", match["association_id"])
    return own_side(who, match) is not None or _reviewer(who, association)


def _insider(who: Principal, lesson: dict) -> bool:
    """The association, its region's coordinators, admins."""
    return (who.is_admin or who.covers_region(lesson.get("region"))
            or (who.role is Role.ASSOCIATION and who.association_id == lesson["association_id"]))


def _wrote(who: Principal, lesson: dict) -> bool:
    org = who.association_id or who.partner_id
    return org is not None and lesson.get("actor_org") == org


def can_read(who: Principal, lesson: dict) -> bool:
    return lesson["published"] or _insider(who, lesson) or _wrote(who, lesson)


def _scope(who: Principal) -> LessonQuery:
    if who.is_admin:
        return LessonQuery(everything=True)
    if who.role is Role.COORDINATOR:
        return LessonQuery(regions=tuple(sorted(who.regions)))
    return LessonQuery(association_id=who.association_id,
                       actor_org=who.association_id or who.partner_id)


# ---------------------------------------------------------------------- what a reader reads
def view(engine, who: Principal | None, lesson: dict, lang: str = "en") -> dict:
    """A lesson as ``who`` (None: the public digest) may read it: a lesson of a confidential
    need names its association only to its insiders."""
    store = engine.store
    named = not lesson["sensitive"] or (who is not None and _insider(who, lesson))
    association = store.get("associations", lesson["association_id"]) if named else None
    if lesson["kind"] == "partner":
        item = store.get("offerings", lesson["item_id"])
        title = item["title"] if item else None
    else:
        item = store.get("practices", lesson["item_id"])
        title = headline(item["text"]) if item else None
    return {
        "id": lesson["id"], "match_id": lesson["match_id"] if named else None,
        "side": lesson["side"], "kind": lesson["kind"],
        "item_id": item["id"] if item else None, "item_title": title,
        "association_id": association["id"] if association else None,
        "association_name": association["name"] if association else None,
        "country": association.get("country") if association else None,
        "region": lesson["region"], "category": lesson["category"],
        "text": lesson["text"], "worked": lesson["worked"], "figures": lesson["figures"],
        "language": lesson["language"], "published": lesson["published"],
        "sensitive": lesson["sensitive"],
        "promoted_practice_id": lesson.get("promoted_practice_id"),
        "created_at": lesson["created_at"], "updated_at": lesson["updated_at"],
        "mine": who is not None and _wrote(who, lesson),
    }


def headline(text: str, width: int = 90) -> str:
    """The first sentence of a text, cut at ``width`` characters."""
    first = text.split(". ")[0]
    return first if len(first) <= width else first[:width - 1].rstrip() + "…"


# ---------------------------------------------------------------------- operations
def write(engine, who: Principal, match_id: int, text, worked, figures=None, *,
          language: str | None = None, published: bool | None = None,
          side: str | None = None, claim: Claim | None = None,
          lang: str = "en") -> tuple[dict, bool]:
    """Write (or update) ``who``'s side of the lesson of a match; the lesson as ``who`` reads
    it, and whether it was created."""
    match, association = lifecycle.visible_match(engine, who, match_id)
    mine = own_side(who, match)
    reviewer = _reviewer(who, association)
    if side is not None and side not in SIDES:
        raise InvalidInput(f"a side is one of: {', '.join(SIDES)}", field="side")
    if side is not None and side != mine and not reviewer:
        raise Forbidden("only the region's coordinators and admins write another side's "
                        "lesson")
    side = side or mine or ("coordinator" if reviewer else None)
    if side is None:
        raise Forbidden("only the association, its counterpart, the region's coordinators "
                        "and admins write a match's lesson")
    if not isinstance(worked, bool):
        raise InvalidInput("worked is true or false", field="worked")
    text = _check_text(text)
    figures = check_figures(figures)
    publisher = who.is_admin or mine == "association"
    if published is not None and not publisher:
        raise Forbidden("only the association publishes what its exchanges taught")
    if match["status"] not in ("outcome_recorded", "closed") or match.get("outcome") is None:
        raise Conflict("a lesson is written once the match's outcome is recorded "
                       f"(match {match_id} is {match['status']})")
    sensitive = bool(match.get("redacted")) or engine.is_sensitive(match["need_id"])
    store = engine.store
    default = None
    if published is None and sensitive:  # as the association decided for this match
        default = any(lesson["published"] for lesson in store.match_lessons(match_id)
                      if lesson["side"] == "association")
    fields = {"text": text, "worked": worked, "figures": figures,
              "language": _check_language(language, text),
              "published": published if published is not None else default}
    with store.writing():
        lesson, created = store.save_lesson(
            match, side, fields, sensitive=sensitive,
            region=association.get("region") if association else None,
            actor=who.actor, role=who.role.value,
            actor_org=who.association_id or who.partner_id, claim=claim)
        if published is not None:
            store.publish_lessons(match, published, actor=who.actor, role=who.role.value,
                                  actor_org=who.association_id or who.partner_id)
    return view(engine, who, store.lesson(lesson["id"]), lang), created


def match_lessons(engine, who: Principal, match_id: int, lang: str = "en") -> list[dict]:
    """A match's lessons as ``who`` may read them (for its page)."""
    lifecycle.visible_match(engine, who, match_id)
    return [view(engine, who, lesson, lang) for lesson in engine.store.match_lessons(match_id)
            if can_read(who, lesson)]


def list_lessons(engine, who: Principal, f: Filters, lang: str = "en"
                 ) -> tuple[list[dict], int]:
    """One page of the lessons ``who`` may read that ``f`` selects; and how many in all."""
    if f.language is not None and f.language not in KNOWN_LANGUAGES:
        raise InvalidInput(f"a language is one of: {', '.join(KNOWN_LANGUAGES)}",
                           field="language")
    q = _scope(who)
    for name in ("q", "category", "region", "commodity", "language", "limit", "offset"):
        setattr(q, name, getattr(f, name))
    rows, total = engine.store.list_lessons(q)
    return [view(engine, who, row, lang) for row in rows if can_read(who, row)], total


def lesson(engine, who: Principal, lesson_id: int) -> dict:
    """One stored lesson ``who`` may read; NotFound otherwise."""
    row = engine.store.lesson(lesson_id)
    if row is None or not can_read(who, row):
        raise NotFound(f"no lesson with id {lesson_id}")
    return row


def promote(engine, who: Principal, lesson_id: int, *, text: str | None = None,
            category: str | None = None, claim: Claim | None = None) -> dict:
    """Make a lesson a practice of the association that learned it (the match's
    association): by that association, its region's coordinators or admins. The practice
    is a normal one; its provenance (the lesson, and the practice it was learned from for a
    peer exchange) is kept. Returns ``{"practice", "lesson_id", "source_practice_id"}``."""
    from matcher.services import profiles  # a sibling service

    row = lesson(engine, who, lesson_id)
    store = engine.store
    association_id = row["association_id"]
    policy.require_manage_association(who, store.get("associations", association_id),
                                      association_id)
    earlier = store.claimed_practice(claim)
    if earlier is None:
        if row.get("promoted_practice_id") and store.get("practices",
                                                         row["promoted_practice_id"]):
            raise Conflict(f"this lesson is already the practice {row['promoted_practice_id']}")
        data = {"text": _check_text(text if text is not None else row["text"]),
                "category": category or row["category"]}
        practice = profiles.add_practice(engine, who, association_id, data, claim)
        store.mark_promoted(lesson_id, practice["id"], actor=who.actor, role=who.role.value,
                            actor_org=who.association_id or who.partner_id)
    else:
        practice = store.get("practices", earlier)
        if practice is None:
            raise Conflict("the practice made with this Idempotency-Key has been deleted since")
    return provenance(engine, practice)


def provenance(engine, practice: dict) -> dict:
    """A practice with the lesson it was promoted from (None) and that lesson's source
    practice (a peer exchange's)."""
    source = engine.store.promotion_of(practice["id"])
    match = engine.store.get_match(source["match_id"]) if source else None
    return {"practice": {k: practice[k] for k in ("id", "association_id", "text", "category")},
            "lesson_id": source["id"] if source else None,
            "source_practice_id": match["item_id"] if match and match["kind"] == "peer"
            else None}


# ---------------------------------------------------------------------- organisation data
def organisation_lessons(engine, who: Principal, org_id: str) -> dict:
    """The lessons of an organisation's matches that ``who`` may read, and their audit (who,
    role, action, when), for its data export."""
    rows = [r for r in engine.store.lessons_involving(org_id) if can_read(who, r)]
    audit = engine.store.lesson_audit([r["id"] for r in rows])
    return {"lessons": [view(engine, who, r) for r in rows],
            "lesson_audit": [{k: a[k] for k in ("id", "lesson_id", "match_id", "action",
                                                 "actor", "role", "at")} for a in audit]}


# ---------------------------------------------------------------------- the library
def library(engine, who: Principal, f: Filters, lang: str = "en") -> dict:
    """The practices and the lessons ``who`` may read that ``f`` selects: each practice with
    the exchanges it took part in (``taught``: associations whose peer match on it has an
    outcome recorded; ``worked``: those that reported it worked) and where it came from (the
    lesson it was promoted from, and that exchange's practice); each lesson as :func:`view`.
    """
    from matcher.services import profiles  # a sibling service
    from matcher.store.profiles import ProfileQuery

    practices: list[dict] = []
    practices_total = 0
    if policy.can_read_practices(who):
        language = f.language  # a practice's language: its association's languages
        rows, practices_total = profiles.page(engine, who, "practices", ProfileQuery(
            q=f.q, category=f.category, region=f.region, commodity=f.commodity,
            language=language, limit=f.limit, offset=f.offset), lang)
        counts = engine.store.practice_exchanges([r["id"] for r in rows])
        for row in rows:
            origin = provenance(engine, row)
            association = engine.store.get("associations", row["association_id"]) or {}
            practices.append({**row, "association_name": association.get("name"),
                              "region": association.get("region"),
                              **counts.get(row["id"], {"taught": 0, "worked": 0}),
                              "lesson_id": origin["lesson_id"],
                              "source_practice_id": origin["source_practice_id"]})
    found, lessons_total = list_lessons(engine, who, f, lang)
    for item in found:
        item["can_promote"] = may_promote(engine, who, item)
    return {"practices": practices, "practices_total": practices_total,
            "lessons": found, "lessons_total": lessons_total}


def may_promote(engine, who: Principal, shown: dict) -> bool:
    """Whether ``who`` may make this (shown) lesson a practice: not yet promoted, and ``who``
    manages the association that learned it."""
    if shown.get("promoted_practice_id") or who.role is Role.PARTNER:
        return False
    row = engine.store.lesson(shown["id"])
    association = engine.store.get("associations", row["association_id"]) if row else None
    return association is not None and policy.can_manage_association(who, association)
