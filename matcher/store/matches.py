"""Proposed matches between a need and an offering (partner) or a practice (peer), and their
audit trail. Every status change is one IMMEDIATE transaction together with its audit row,
guarded by the row's ``version`` (optimistic concurrency): a change computed from a stale read
updates nothing and raises :class:`~matcher.errors.Conflict`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from matcher.errors import Conflict, NotFound
from matcher.store.base import BaseStore
from matcher.store.idempotency import Claim, IdempotencyMixin
from matcher.store.sql import in_list
from matcher.vocabulary import GOOD_OUTCOMES, HOLDING_CAPACITY, NO_OUTCOME

# The SQL of each of the queue's orders (matcher.vocabulary.MATCH_SORTS).
SORTS = {"-score": "m.score desc, m.id", "created_at": "m.created_at, m.id",
         "-created_at": "m.created_at desc, m.id desc"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class MatchQuery:
    """Which matches to list: a caller's scope plus the queue's filters (all optional).

    Scope: ``regions`` (a coordinator's), ``association_id`` (its own matches, and peer matches
    on its practices once introduced) or ``partner_id`` (matches on its offerings); none of the
    three means every match (admins).
    """

    regions: list[str] | None = None
    association_id: str | None = None
    partner_id: str | None = None
    statuses: list[str] = field(default_factory=list)
    region: str | None = None
    category: str | None = None
    kind: str | None = None
    need_id: str | None = None
    item_id: str | None = None  # one offering's (or practice's) matches
    min_score: float | None = None
    created_before: str | None = None  # ISO timestamp
    created_after: str | None = None  # ISO timestamp (or date: from its start)
    sort: str = "created_at"
    limit: int = 50
    offset: int = 0


class MatchesMixin(IdempotencyMixin, BaseStore):
    """Reads the engine needs at suggestion time, and the lifecycle's reads and writes."""

    # ------------------------------------------------------------------ engine reads
    def capacity_used(self) -> dict[str, int]:
        """Offering id -> matches currently holding one of its slots."""
        marks, params = in_list("status", HOLDING_CAPACITY)
        cursor = self.db.execute(
            f"select item_id, count(*) from matches where kind = 'partner' and status in "
            f"({marks}) group by item_id", params)
        return {item: count for item, count in cursor.fetchall()}

    def rule_facts(self, need_id: str, kind: str
                   ) -> tuple[dict[str, int] | None, set[str], set[str]]:
        """What the hard rules ask of the store for one need, in one read: the slots each
        offering has taken (:meth:`capacity_used`, partners only, else None), the items a
        coordinator rejected for the need (:meth:`rejected_items`) and those its association
        marked not interested (``not_interested_items``)."""
        marks, params = in_list("status", HOLDING_CAPACITY)
        used_rows = (f"select 'used', item_id, count(*) from matches where kind = 'partner' "
                     f"and status in ({marks}) group by item_id union all "
                     if kind == "partner" else "")
        cursor = self.db.execute(
            f"{used_rows}select 'rejected', item_id, 1 from matches where need_id = :need_id "
            "and kind = :kind and status = 'rejected' union all "
            "select 'unwanted', item_id, 1 from not_interested where need_id = :need_id and "
            "kind = :kind", {**params, "need_id": need_id, "kind": kind})
        used: dict[str, int] | None = {} if kind == "partner" else None
        rejected: set[str] = set()
        unwanted: set[str] = set()
        for fact, item, count in cursor.fetchall():
            if fact == "used":
                used[item] = count  # type: ignore[index]
            else:
                (rejected if fact == "rejected" else unwanted).add(item)
        return used, rejected, unwanted

    def rejected_items(self, need_id: str, kind: str) -> set[str]:
        """Items a coordinator rejected for this need: never proposed again."""
        cursor = self.db.execute(
            "select item_id from matches where need_id = :need_id and kind = :kind "
            "and status = 'rejected'", {"need_id": need_id, "kind": kind})
        return {row[0] for row in cursor.fetchall()}

    def item_evidence(self) -> dict[str, dict[tuple[str, str], dict[str, int]]]:
        """What came of each offering's and practice's past exchanges, per category of the
        need they were for (given or inferred when proposed): kind -> (item id, category) ->
        ``good`` (exchanges that helped: an outcome in ``GOOD_OUTCOMES``), ``no_outcome``
        (exchanges that led to nothing) and ``helped`` (how many associations they helped,
        through needs that are not confidential: a confidential need's exchange counts in
        ``good``, never in a number that is shown). Only items with evidence are named. Kept
        fresh by ``evidence_version`` (migration m021's triggers).

        Each row of ``events`` is one piece of evidence about one item: a match's recorded
        outcome. Another source of evidence is one more ``union all`` branch of it, giving
        the same columns (kind, item, category, association, shown 0/1, good 0/1, bad 0/1).

        A match's lessons, when it has any, are the finer word on it: it helped when one of
        its sides says it worked, and led to nothing when they all say it did not (migration
        m024's triggers keep ``evidence_version`` current with them)."""
        marks, params = in_list("good", GOOD_OUTCOMES)
        cursor = self.db.execute(
            "with said (match_id, worked) as ("
            " select match_id, max(worked) from lessons group by match_id"
            "), events (kind, item_id, category, association_id, shown, good, bad) as ("
            " select m.kind, m.item_id, m.category, m.association_id,"
            " case when m.redacted = 0 then 1 else 0 end,"
            " case when said.worked is null then"
            f" (case when m.outcome in ({marks}) then 1 else 0 end)"
            " when said.worked = 1 then 1 else 0 end,"
            " case when said.worked is null then"
            " (case when m.outcome = :no_outcome then 1 else 0 end)"
            " when said.worked = 0 then 1 else 0 end"
            " from matches m left join said on said.match_id = m.id"
            " where m.outcome is not null and m.category is not null"
            " and m.status in ('outcome_recorded', 'closed')"
            ") select kind, item_id, category, sum(good), sum(bad),"
            " count(distinct case when good = 1 and shown = 1 then association_id end)"
            " from events group by kind, item_id, category",
            {**params, "no_outcome": NO_OUTCOME})
        found: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
        for kind, item_id, category, good, bad, helped in cursor.fetchall():
            found.setdefault(kind, {})[item_id, category] = {
                "good": int(good), "no_outcome": int(bad), "helped": int(helped)}
        return found

    # ------------------------------------------------------------------ reads
    def get_match(self, match_id: int) -> dict | None:
        return next(self._match_rows("id = :id", {"id": match_id}), None)

    def find_match(self, need_id: str, kind: str, item_id: str) -> dict | None:
        """The match of this pair, whatever its status (a pair is a match at most once)."""
        return next(self._match_rows(
            "need_id = :need_id and kind = :kind and item_id = :item_id",
            {"need_id": need_id, "kind": kind, "item_id": item_id}), None)

    def audit_trail(self, match_id: int) -> list[dict]:
        """Every change of one match, oldest first."""
        return list(self._rows("audit", "match_id = :match_id", {"match_id": match_id}, "id"))

    def proposers(self, match_ids: list[int]) -> dict[int, str]:
        """Match id -> the role that proposed it (the first audit row's)."""
        found: dict[int, str] = {}
        ids = list(match_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks, params = in_list("id", chunk)
            for match_id, role in self.db.execute(
                    f"select match_id, role from audit where action = 'propose' and match_id "
                    f"in ({marks})", params).fetchall():
                found[match_id] = role
        return found

    def list_matches(self, q: MatchQuery) -> tuple[list[dict], int]:
        """One page of the matches ``q`` selects, and how many it selects in all."""
        where, params = ["1 = 1"], {}

        def add(clause: str, **values) -> None:
            where.append(clause)
            params.update(values)

        if q.regions is not None:
            if q.regions:
                marks, regions = in_list("scope_region", q.regions)
                add(f"a.region in ({marks})", **regions)
            else:
                add("1 = 0")
        if q.association_id is not None:
            add("(m.association_id = :association_id or (m.kind = 'peer' "
                "and m.owner_id = :association_id and m.introduced_at is not null))",
                association_id=q.association_id)
        if q.partner_id is not None:
            add("m.kind = 'partner' and m.owner_id = :partner_id", partner_id=q.partner_id)
        if q.statuses:
            marks, statuses = in_list("status", q.statuses)
            add(f"m.status in ({marks})", **statuses)
        for column, value in (("a.region", q.region), ("m.category", q.category),
                              ("m.kind", q.kind), ("m.need_id", q.need_id),
                              ("m.item_id", q.item_id)):
            if value is not None:
                name = column.replace(".", "_")
                add(f"{column} = :{name}", **{name: value})
        if q.min_score is not None:
            add("m.score >= :min_score", min_score=q.min_score)
        if q.created_before is not None:
            add("m.created_at <= :created_before", created_before=q.created_before)
        if q.created_after is not None:
            add("m.created_at >= :created_after", created_after=q.created_after)
        sql = ("from matches m left join associations a on a.id = m.association_id where "
               + " and ".join(where))
        total = self.db.execute(f"select count(*) {sql}", params).fetchone()[0]
        cursor = self.db.execute(
            f"select m.* {sql} order by {SORTS[q.sort]} limit :limit offset :offset",
            {**params, "limit": q.limit, "offset": q.offset})
        names = list(cursor.keys())
        return [_match(dict(zip(names, row))) for row in cursor.fetchall()], total

    def _match_rows(self, where: str, params: dict):
        for row in self._rows("matches", where, params, "id"):
            yield _match(row)

    # ------------------------------------------------------------------ writes
    def create_match(self, row: dict, *, actor: str, role: str, actor_org: str | None = None,
                     at: str | None = None, claim: Claim | None = None) -> dict:
        """Insert a ``proposed`` match (``row``: kind, need_id, association_id, item_id,
        owner_id, score, category, reasons, and optionally contributions,
        reasons_by_language, strength and strength_label, and redacted: whether outsiders
        read it redacted until its introduction, by default whether the need is
        confidential) with its audit row. A pair
        already matched, or rejected once, is refused (:class:`Conflict`). Under a ``claim``
        made before, the match that claim created is returned and nothing is written."""
        at = at or now()
        with self.writing():
            earlier = self.claimed(claim, "matches")
            if earlier is not None:
                return self.claimed_match(int(earlier))
            match_id = self._insert_match(row, actor=actor, role=role, actor_org=actor_org,
                                          at=at)
            self._claim(claim, "matches", str(match_id))
        return self.get_match(match_id)

    def _insert_match(self, row: dict, *, actor: str, role: str, actor_org: str | None,
                      at: str) -> int:
        """Insert one ``proposed`` match and its audit row (inside a write transaction)."""
        existing = self.find_match(row["need_id"], row["kind"], row["item_id"])
        if existing is not None:
            if existing["status"] == "rejected":
                raise Conflict(f"this pair was rejected (match {existing['id']}); a rejected "
                               "pair is never proposed again")
            raise Conflict(f"this pair is already match {existing['id']} "
                           f"(status {existing['status']})")
        match_id = int(self.db.insert("matches", {
            "kind": row["kind"], "need_id": row["need_id"],
            "association_id": row["association_id"], "item_id": row["item_id"],
            "owner_id": row["owner_id"], "status": "proposed", "score": row["score"],
            "category": row.get("category"), "reasons": json.dumps(row.get("reasons") or []),
            "contributions": _json_or_null(row.get("contributions")),
            "reasons_by_language": _json_or_null(row.get("reasons_by_language")),
            "created_at": at, "updated_at": at, "version": 1,
            "redacted": int(bool(row.get("redacted"))), "round_id": row.get("round_id"),
            "offered_by": row.get("offered_by"), "strength": row.get("strength"),
            "strength_label": row.get("strength_label")}))
        if row.get("redacted") is None:  # the need's confidentiality, when not decided
            self.db.execute("update matches set redacted = 1 where id = :id and need_id in "
                            "(select id from needs where confidential = 1)", {"id": match_id})
        self._audit(match_id, "propose", None, "proposed", actor, role, actor_org, at)
        return match_id

    def claimed_match(self, match_id: int) -> dict:
        """The match a claim created (Conflict when it has been deleted since)."""
        match = self.get_match(match_id)
        if match is None:
            raise Conflict(f"the match {match_id} proposed with this Idempotency-Key has been "
                           "deleted since")
        return match

    def transition_match(self, match_id: int, *, version: int, from_status: str,
                         to_status: str, action: str, actor: str, role: str,
                         actor_org: str | None = None, note: str | None = None,
                         reason: str | None = None, outcome: str | None = None,
                         takes_slot: bool = False, introduced: bool = False,
                         at: str | None = None) -> dict:
        """Move one match from ``from_status`` (at ``version``) to ``to_status`` and write the
        audit row, in one transaction. Refused (:class:`Conflict`) when the match changed
        since it was read, or, with ``takes_slot``, when its offering has no free slot."""
        at = at or now()
        with self.writing():
            if takes_slot:
                self._check_free_slot(match_id)
            sets = ["status = :to_status", "version = version + 1", "updated_at = :at",
                    "note = :note"]
            values: dict = {"to_status": to_status, "at": at, "note": note}
            if reason is not None:
                sets.append("reason = :reason")
                values["reason"] = reason
            if outcome is not None:
                sets.append("outcome = :outcome")
                values["outcome"] = outcome
            if introduced:
                sets.append("introduced_at = :at")
            cursor = self.db.execute(
                f"update matches set {', '.join(sets)} where id = :id and version = :version "
                "and status = :from_status",
                {**values, "id": match_id, "version": version, "from_status": from_status})
            if cursor.rowcount == 0:
                self._refuse_stale(match_id)
            self._audit(match_id, action, from_status, to_status, actor, role, actor_org, at,
                        note=note, reason=reason, outcome=outcome)
        return self.get_match(match_id)

    def _refuse_stale(self, match_id: int) -> None:
        """A versioned update that changed no row: the match is gone, or changed meanwhile."""
        current = self.get_match(match_id)
        if current is None:
            raise NotFound(f"no match with id {match_id}")
        raise Conflict(f"match {match_id} changed meanwhile (it is now {current['status']}, "
                       f"version {current['version']}); reload it and try again")

    def answer_match(self, match_id: int, *, version: int, status: str, answer: str,
                     reason: str | None, note: str | None, actor: str, role: str,
                     actor_org: str | None = None, at: str | None = None) -> dict:
        """Record the partner's ``answer`` (with a decline's ``reason``) on one match at
        ``version`` and in ``status``, with its audit row (``partner_accept`` or
        ``partner_decline``), in the caller's transaction or one of its own. The status does
        not change; a concurrent change is a :class:`Conflict`."""
        at = at or now()
        with self.writing():
            cursor = self.db.execute(
                "update matches set partner_answer = :answer, partner_reason = :reason, "
                "partner_answered_at = :at, version = version + 1, updated_at = :at "
                "where id = :id and version = :version and status = :status",
                {"answer": answer, "reason": reason, "at": at, "id": match_id,
                 "version": version, "status": status})
            if cursor.rowcount == 0:
                self._refuse_stale(match_id)
            action = "partner_accept" if answer == "accepted" else "partner_decline"
            self._audit(match_id, action, status, status, actor, role, actor_org, at,
                        note=note, reason=reason)
        return self.get_match(match_id)

    def add_comment(self, match_id: int, body: str, *, actor: str, role: str,
                    actor_org: str | None = None, claim: Claim | None = None,
                    at: str | None = None) -> dict:
        """Add a comment to a match's thread, with an audit row (``comment``, its text kept
        once, in the thread). Under a ``claim`` made before, that comment is returned."""
        at = at or now()
        with self.writing():
            earlier = self.claimed(claim, "match_comments")
            if earlier is not None:
                return self._comment(int(earlier))
            status = self.db.execute("select status from matches where id = :id",
                                     {"id": match_id}).fetchone()
            if status is None:
                raise NotFound(f"no match with id {match_id}")
            comment_id = int(self.db.insert("match_comments", {
                "match_id": match_id, "at": at, "actor": actor, "role": role,
                "actor_org": actor_org, "body": body}))
            self._audit(match_id, "comment", status[0], status[0], actor, role, actor_org, at)
            self._claim(claim, "match_comments", str(comment_id))
        return self._comment(comment_id)

    def _comment(self, comment_id: int) -> dict:
        row = next(self._rows("match_comments", "id = :id", {"id": comment_id}, "id"), None)
        if row is None:
            raise Conflict(f"the comment {comment_id} made with this Idempotency-Key has "
                           "been deleted since")
        return row

    def comments(self, match_id: int) -> list[dict]:
        """A match's comment thread, oldest first."""
        return list(self._rows("match_comments", "match_id = :match_id", {"match_id": match_id},
                               "id"))

    def _check_free_slot(self, match_id: int) -> None:
        row = self.db.execute(
            "select m.kind, m.item_id, o.capacity from matches m left join offerings o "
            "on o.id = m.item_id where m.id = :id", {"id": match_id}).fetchone()
        if row is None or row[0] != "partner" or row[2] is None:
            return
        _, item_id, capacity = row
        marks, params = in_list("status", HOLDING_CAPACITY)
        used = self.db.execute(
            f"select count(*) from matches where kind = 'partner' and item_id = :item_id "
            f"and status in ({marks})", {**params, "item_id": item_id}).fetchone()[0]
        if used >= capacity:
            raise Conflict(f"offering {item_id!r} is full ({used} of {capacity} slots held by "
                           "approved, introduced or active matches)")

    def _audit(self, match_id: int, action: str, from_status: str | None, to_status: str,
               actor: str, role: str, actor_org: str | None, at: str, *,
               note: str | None = None, reason: str | None = None,
               outcome: str | None = None) -> None:
        self.db.insert("audit", {
            "match_id": match_id, "action": action, "actor": actor, "actor_org": actor_org,
            "role": role, "at": at, "from_status": from_status, "to_status": to_status,
            "reason": reason, "outcome": outcome, "note": note}, returning=None)

    # ------------------------------------------------------------------ organisation data rights
    def matches_involving(self, *, association_id: str | None = None,
                          partner_id: str | None = None) -> list[dict]:
        """Every match of an association (its needs, or peer matches on its practices) or of a
        partner (its offerings), for an organisation's export."""
        where, params = _involving(association_id, partner_id)
        return list(self._match_rows(where, params))

    def delete_matches_involving(self, *, association_id: str | None = None,
                                 partner_id: str | None = None) -> list[int]:
        """Delete an organisation's matches (see :meth:`matches_involving`); return their ids.
        Their audit rows stay, for :meth:`pseudonymise_audit`. Joins the caller's transaction
        when there is one."""
        where, params = _involving(association_id, partner_id)
        with self.writing():
            ids = [row[0] for row in self.db.execute(
                f"select id from matches where {where} order by id", params).fetchall()]
            for start in range(0, len(ids), 500):
                marks, chunk = in_list("id", ids[start:start + 500])
                self.db.execute(f"delete from match_comments where match_id in ({marks})",
                                chunk)
            self.db.execute(f"delete from matches where {where}", params)
        return ids

    def pseudonymise_audit(self, org_id: str, pseudonym: str,
                           match_ids: list[int] = ()) -> int:
        """Replace ``org_id`` in the audit trail by ``pseudonym``: rows it acted in lose the
        actor's name; rows of ``match_ids`` (its deleted matches) also lose their free-text
        notes. Returns the number of rows changed. Joins the caller's transaction."""
        changed = 0
        with self.writing():
            changed += self.db.execute(
                "update audit set actor = :pseudonym, actor_org = :pseudonym "
                "where actor_org = :org_id", {"pseudonym": pseudonym, "org_id": org_id}
            ).rowcount
            changed += self.db.execute(
                "update match_comments set actor = :pseudonym, actor_org = :pseudonym "
                "where actor_org = :org_id", {"pseudonym": pseudonym, "org_id": org_id}
            ).rowcount
            for start in range(0, len(match_ids), 500):
                marks, chunk = in_list("id", match_ids[start:start + 500])
                changed += self.db.execute(
                    f"update audit set note = null where match_id in ({marks}) "
                    "and note is not null", chunk).rowcount
        return changed


def _involving(association_id: str | None, partner_id: str | None) -> tuple[str, dict]:
    if (association_id is None) == (partner_id is None):
        raise ValueError("name exactly one of association_id and partner_id")
    if association_id is not None:
        return ("association_id = :org_id or (kind = 'peer' and owner_id = :org_id)",
                {"org_id": association_id})
    return "kind = 'partner' and owner_id = :org_id", {"org_id": partner_id}


def _json_or_null(value) -> str | None:
    return None if value is None else json.dumps(value)


def _match(row: dict) -> dict:
    """A match row with its JSON columns read; ``contributions`` is None and
    ``reasons_by_language`` empty for matches proposed before they were recorded."""
    reasons, contributions = row.get("reasons"), row.get("contributions")
    by_language = row.get("reasons_by_language")
    return {**row, "redacted": bool(row.get("redacted")),
            "reasons": json.loads(reasons) if reasons else [],
            "contributions": json.loads(contributions) if contributions else None,
            "reasons_by_language": json.loads(by_language) if by_language else {}}
