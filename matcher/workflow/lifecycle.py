"""The match lifecycle: states, who may move a match from which state to which, and the
operations the API calls (propose, transition, read, list). Knows nothing about HTTP.

==============  ==========================================  ==================  ===============
action          from                                        to                  by
==============  ==========================================  ==================  ===============
approve         proposed                                    approved            reviewer
reject          proposed                                    rejected (final)    reviewer
accept          approved                                    introduced          the association
decline         approved                                    closed (final)      the association
activate        introduced                                  active              reviewer
record_outcome  active                                      outcome_recorded    reviewer
close           outcome_recorded; or approved, introduced,  closed (final)      reviewer
                active with a note saying why
==============  ==========================================  ==================  ===============

Reviewers (a coordinator of the association's region, or an admin) approve, reject, activate,
record outcomes and close; the association itself (or an admin) accepts or declines the
introduction. Approved, introduced and active matches hold one slot of their offering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from matcher import policy
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.reference import UI_LANGUAGES
from matcher.store import Claim
from matcher.store.matches import MatchQuery
from matcher.vocabulary import (
    ASSOCIATION,
    HOLDING_CAPACITY,
    MATCH_SORTS,
    OUTCOMES,
    REJECT_REASONS,
    REVIEWER,
    STATES,
)
from matcher.workflow import notifications
from matcher.workflow.sensitive import neutral_summary

MAX_NOTE = 2000



@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    by: str  # REVIEWER or ASSOCIATION
    description: str

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset({Role.ADMIN, Role.COORDINATOR if self.by == REVIEWER
                          else Role.ASSOCIATION})


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("approve", ("proposed",), "approved", REVIEWER,
               "approve a proposed match (takes one slot of the offering; refused when full)"),
    Transition("reject", ("proposed",), "rejected", REVIEWER,
               "reject a proposed match, with a reason; the pair is never proposed again"),
    Transition("accept", ("approved",), "introduced", ASSOCIATION,
               "the association accepts the introduction; both sides get a message"),
    Transition("decline", ("approved",), "closed", ASSOCIATION,
               "the association declines the introduction (frees the slot)"),
    Transition("activate", ("introduced",), "active", REVIEWER,
               "the follow-up between the two sides is under way"),
    Transition("record_outcome", ("active",), "outcome_recorded", REVIEWER,
               "record what came of it (agreement signed, loan, training, visit, no outcome)"),
    Transition("close", ("approved", "introduced", "active", "outcome_recorded"), "closed",
               REVIEWER, "close the match (frees the slot if it held one); before an outcome "
               "is recorded, only with a note saying why"),
)}


def allowed_from(status: str) -> list[str]:
    """The actions that can move a match out of ``status``."""
    return [t.action for t in TRANSITIONS.values() if status in t.sources]


# ---------------------------------------------------------------------- who may see / act
def _association_of(store, match: dict) -> dict | None:
    return store.get("associations", match["association_id"])


def actions_for(who: Principal, match: dict, association: dict | None) -> list[str]:
    """What ``who`` can do with ``match`` now."""
    return [t.action for t in TRANSITIONS.values()
            if match["status"] in t.sources
            and policy.may_act_on_match(who, t.by, match, association)]


def visible_match(engine, who: Principal, match_id: int) -> tuple[dict, dict | None]:
    """The match and its association, if ``who`` may see it; otherwise it does not exist."""
    store = engine.store
    match = store.get_match(match_id)
    association = match and _association_of(store, match)
    if match is None or not policy.can_see_match(who, match, association):
        raise NotFound(f"no match with id {match_id}")
    return match, association


def _actor_org(who: Principal) -> str | None:
    return who.association_id or who.partner_id


# ---------------------------------------------------------------------- operations
def propose(engine, who: Principal, need_id: str, kind: str, item_id: str,
            claim: Claim | None = None) -> dict:
    """Save a current suggestion of ``item_id`` for ``need_id`` as a ``proposed`` match.

    The item must pass every hard rule for the need now (and not have been rejected for it);
    its score, reasons and each scorer's contribution are the engine's, kept with the match. By the association itself, its region's coordinators, admins.
    """
    store = engine.store
    if who.role is Role.PARTNER:
        raise Forbidden("partners do not propose matches")
    earlier = store.claimed(claim, "matches")
    if earlier is not None:
        return store.claimed_match(int(earlier))
    need = store.get("needs", need_id)
    association = need and store.get("associations", need["association_id"])
    if need is None or not policy.can_see_association(who, association):
        raise NotFound(f"no need with id {need_id!r}")
    if kind not in ("partner", "peer"):
        raise InvalidInput("kind must be partner or peer", field="kind")
    table, noun = ("offerings", "offering") if kind == "partner" else ("practices", "practice")
    if store.get(table, item_id) is None:
        raise NotFound(f"no {noun} with id {item_id!r}")
    existing = store.find_match(need_id, kind, item_id)
    if existing is not None and existing["status"] == "rejected":
        raise Conflict(f"this pair was rejected (match {existing['id']}); a rejected pair is "
                       "never proposed again")
    if existing is not None:
        raise Conflict(f"this pair is already match {existing['id']} "
                       f"(status {existing['status']})")
    suggestion = _current_suggestion(engine, need_id, kind, item_id)
    if suggestion is None:
        raise Conflict(f"{noun} {item_id!r} is not a suggestion for need {need_id!r} now: "
                       "it fails a hard rule (region, country, commodity, eligibility, active, "
                       "validity, capacity, or its own association)")
    category = engine.need_category(need_id)[0]
    with store.writing():  # the match and the coordinators' notification: one transaction
        match = store.create_match(
            {"kind": kind, "need_id": need_id, "association_id": association["id"],
             "redacted": engine.is_sensitive(need_id),
             "item_id": item_id, "owner_id": suggestion.owner_id, "score": suggestion.score,
             "strength": suggestion.strength, "strength_label": suggestion.strength_label,
             "category": category, "reasons": suggestion.reasons,
             "contributions": suggestion.contributions,
             "reasons_by_language": _reasons_by_language(engine, suggestion)},
            actor=who.actor, role=who.role.value, actor_org=_actor_org(who), claim=claim)
        notifications.on_proposed(engine, match, by_reviewer=who.role is Role.COORDINATOR)
    return match


def offer(engine, who: Principal, offering_id: str, need_id: str,
          claim: Claim | None = None) -> dict:
    """A partner offers its offering's help on a need it fits: a ``proposed`` match marked
    ``offered_by: partner``, reviewed by the coordinators like any other. By the offering's
    partner and admins; the pair must pass every hard rule now."""
    store = engine.store
    offering = store.get("offerings", offering_id)
    policy.require_offering(who, offering, offering_id, write=True)
    earlier = store.claimed(claim, "matches")
    if earlier is not None:
        return store.claimed_match(int(earlier))
    need = store.get("needs", need_id)
    if need is None:
        raise NotFound(f"no need with id {need_id!r}")
    existing = store.find_match(need_id, "partner", offering_id)
    if existing is not None:
        raise Conflict("this offering is already matched with this need, or was rejected "
                       "for it")
    fits = engine.needs_for_offering(offering_id, [need_id])
    if not fits:
        raise Conflict(f"offering {offering_id!r} does not fit this need now: it fails a hard "
                       "rule (region, country, commodity, eligibility, active, validity, "
                       "capacity)")
    suggestion = fits[0]
    return store.create_match(
        {"kind": "partner", "need_id": need_id, "association_id": need["association_id"],
         "redacted": engine.is_sensitive(need_id), "item_id": offering_id,
         "owner_id": offering["partner_id"], "score": suggestion.score,
         "category": engine.need_category(need_id)[0], "reasons": suggestion.reasons,
         "contributions": suggestion.contributions,
         "reasons_by_language": _reasons_by_language(engine, suggestion),
         "strength": suggestion.strength, "strength_label": suggestion.strength_label,
         "offered_by": "partner"},
        actor=who.actor, role=who.role.value, actor_org=_actor_org(who), claim=claim)


def _current_suggestion(engine, need_id: str, kind: str, item_id: str, lang: str = "en"):
    """The engine's suggestion of ``item_id`` for the need, or None if it is not one now."""
    everything = max(1, len(engine.corpus().block(kind)))
    result = engine.suggest(need_id, kind, limit=everything, lang=lang)
    return next((s for s in result.suggestions if s.item_id == item_id), None)


def _reasons_by_language(engine, suggestion) -> dict[str, list[str]]:
    """The suggestion's reasons in every page language (the engine words them per language)."""
    reasons = {"en": suggestion.reasons}
    for lang in UI_LANGUAGES:
        if lang not in reasons:
            again = _current_suggestion(engine, suggestion.need_id, suggestion.kind,
                                        suggestion.item_id, lang)
            if again is not None:
                reasons[lang] = again.reasons
    return reasons


def transition(engine, who: Principal, match_id: int, action: str, *, note: str | None = None,
               reason: str | None = None, outcome: str | None = None,
               version: int | None = None) -> dict:
    """Perform ``action`` on a match: checked against the state machine, the caller's rights,
    the client's ``version`` (if given) and, for approvals, the offering's capacity. The
    change and its audit row are one transaction; a concurrent change wins, this one is 409."""
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    store = engine.store
    match, association = visible_match(engine, who, match_id)
    if who.role not in spec.roles or not policy.may_act_on_match(who, spec.by, match,
                                                                  association):
        who_may = ("a coordinator of the association's region or an admin"
                   if spec.by == REVIEWER else "the association itself or an admin")
        raise Forbidden(f"only {who_may} may {action} a match")
    _check_arguments(spec, note, reason, outcome)
    if version is not None and version != match["version"]:
        raise Conflict(f"match {match_id} is at version {match['version']}, not {version}; "
                       "reload it and try again")
    if match["status"] not in spec.sources:
        raise Conflict(f"cannot {action} a match that is {match['status']} (only from "
                       f"{', '.join(spec.sources)})")
    if action == "close" and match["status"] != "outcome_recorded" and not (note or "").strip():
        raise InvalidInput("closing a match before its outcome is recorded needs a note "
                           "saying why", field="note")
    with store.writing():  # the change and whom it is told to: one transaction
        changed = store.transition_match(
            match_id, version=match["version"], from_status=match["status"],
            to_status=spec.target, action=action, actor=who.actor, role=who.role.value,
            actor_org=_actor_org(who), note=note, reason=reason, outcome=outcome,
            takes_slot=spec.target in HOLDING_CAPACITY
            and match["status"] not in HOLDING_CAPACITY,
            introduced=spec.target == "introduced")
        notifications.on_transition(engine, action, changed, note)
    return changed


def _check_arguments(spec: Transition, note, reason, outcome) -> None:
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"at most {MAX_NOTE} characters", field="note")
    if spec.action == "reject":
        if reason not in REJECT_REASONS:
            raise InvalidInput(f"a rejection needs a reason, one of: {', '.join(REJECT_REASONS)}",
                               field="reason")
    elif reason is not None:
        raise InvalidInput("only a rejection takes a reason", field="reason")
    if spec.action == "record_outcome":
        if outcome not in OUTCOMES:
            raise InvalidInput(f"an outcome is one of: {', '.join(OUTCOMES)}", field="outcome")
    elif outcome is not None:
        raise InvalidInput("only record_outcome takes an outcome", field="outcome")


def audit_trail(engine, who: Principal, match_id: int) -> list[dict]:
    """The match's changes, oldest first, for those who may see the match. On a redacted
    match (:func:`redacted`) the rows carry no free-text notes and name no actor of the
    association's side: the actor reads as its role."""
    match, association = visible_match(engine, who, match_id)
    rows = engine.store.audit_trail(match_id)
    if redacted(engine, who, match, association):
        rows = [{**row, "note": None, "actor": row["role"], "actor_org": None} for row in rows]
    return rows


@dataclass
class Filters:
    """The queue's filters, as the API receives them."""

    statuses: list[str] | None = None
    region: str | None = None
    category: str | None = None
    kind: str | None = None
    need_id: str | None = None
    min_score: float | None = None
    older_than_days: int | None = None
    sort: str = "created_at"
    limit: int = 50
    offset: int = 0
    item_id: str | None = None  # one offering's or practice's matches
    since: date | None = None  # proposed on that day or later (UTC)


def list_matches(engine, who: Principal, f: Filters) -> tuple[list[dict], int]:
    """One page of the matches the caller may see, filtered; and the total."""
    if f.sort not in MATCH_SORTS:
        raise InvalidInput(f"sort is one of: {', '.join(MATCH_SORTS)}", field="sort")
    bad = [s for s in f.statuses or [] if s not in STATES]
    if bad:
        raise InvalidInput(f"unknown status {bad[0]!r}", field="status")
    q = MatchQuery(statuses=list(f.statuses or []), region=f.region, category=f.category,
                   kind=f.kind, need_id=f.need_id, min_score=f.min_score, sort=f.sort,
                   limit=f.limit, offset=f.offset, item_id=f.item_id,
                   created_after=f.since.isoformat() if f.since else None)
    if f.older_than_days is not None:
        cutoff = datetime.now(UTC) - timedelta(days=f.older_than_days)
        q.created_before = cutoff.isoformat(timespec="seconds")
    if who.role is Role.COORDINATOR:
        q.regions = sorted(who.regions)
    elif who.role is Role.ASSOCIATION:
        q.association_id = who.association_id or ""
    elif who.role is Role.PARTNER:
        q.partner_id = who.partner_id or ""
    return engine.store.list_matches(q)


# ---------------------------------------------------------------------- what a caller reads
def redacted(engine, who: Principal, match: dict, association: dict | None) -> bool:
    """Whether ``who`` reads the match redacted: its need is confidential, or was when the
    match was proposed (nothing lowers that), ``who`` is outside the association, its region
    and admins, and the association has not accepted the introduction yet."""
    if not policy.may_be_redacted_for(who, match, association):
        return False
    if match.get("redacted"):
        return True
    need = engine.store.get("needs", match["need_id"])
    return need is None or engine.is_sensitive(match["need_id"])


def view(engine, who: Principal, match: dict, lang: str = "en") -> dict:
    """A match as ``who`` may read it: names, the need (or its neutral summary), and the
    actions ``who`` can take now."""
    store = engine.store
    association = _association_of(store, match)
    need = store.get("needs", match["need_id"])
    if match["kind"] == "partner":
        item = store.get("offerings", match["item_id"])
        owner = store.get("partners", match["owner_id"])
        title = item["title"] if item else match["item_id"]
    else:
        item = store.get("practices", match["item_id"])
        owner = store.get("associations", match["owner_id"])
        title = _headline(item["text"]) if item else match["item_id"]
    hidden = redacted(engine, who, match, association)
    proposed_by = store.proposers([match["id"]]).get(match["id"])
    if hidden:
        need_text = neutral_summary(match["category"], association or {}, engine.ref, lang)
    else:
        need_text = need["text"] if need else ""
    return {
        **{k: match[k] for k in ("id", "kind", "status", "need_id", "item_id",
                                  "owner_id", "score", "strength", "strength_label",
                                  "category", "reason",
                                  "outcome", "created_at", "updated_at", "introduced_at",
                                  "version")},
        "round_id": match.get("round_id"), "offered_by": match.get("offered_by"),
        "proposed_by": proposed_by,
        "status_word": status_word(match, proposed_by),
        "partner_answer": match.get("partner_answer"),
        "partner_reason": match.get("partner_reason"),
        "partner_answered_at": match.get("partner_answered_at"),
        # nothing identifies the association behind a redacted match: no id, name or country
        "association_id": None if hidden else match["association_id"],
        "note": None if hidden else match["note"],
        # may quote the need's words; in ``lang`` when it was recorded in it
        "reasons": [] if hidden else (match.get("reasons_by_language") or {}).get(
            lang, match["reasons"]),
        "need_text": need_text,
        "need_text_redacted": hidden,
        "association_name": association["name"] if association and not hidden else None,
        "region": association.get("region") if association else None,
        "item_title": title,
        "owner_name": owner["name"] if owner else None,
        "actions": actions_for(who, match, association),
    }


def status_word(match: dict, proposed_by: str | None) -> str:
    """The status as its readers name it: ``requested`` for a proposed match the association
    asked for itself (a match's status says "proposed" whoever proposed it)."""
    if match["status"] == "proposed" and proposed_by == "association":
        return "requested"
    return match["status"]


def status_words(engine, matches: list[dict]) -> dict[int, str]:
    """Match id -> its :func:`status_word`, for a list of matches."""
    proposers = engine.store.proposers([m["id"] for m in matches])
    return {m["id"]: status_word(m, proposers.get(m["id"])) for m in matches}


def _headline(text: str, width: int = 90) -> str:
    first = text.split(". ")[0]
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"
