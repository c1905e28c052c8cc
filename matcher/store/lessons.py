"""Lessons: what each exchange taught, one per match and side, with their own audit trail
(who, in which role, did what, when: never the text) and a full-text index (m020)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from matcher.errors import Conflict, NotFound
from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.idempotency import Claim, IdempotencyMixin
from matcher.store.profiles import search_clause
from matcher.store.sql import Sql, in_list

# A match is "at or past its outcome" in these states with an outcome recorded.
OUTCOME_STATES = ("outcome_recorded", "closed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class LessonQuery:
    """Which lessons to list. Visibility: a lesson is listed when it is published, or when
    the caller is ``everything`` (admins), covers its region (``regions``), is its
    association (``association_id``) or wrote it (``actor_org``)."""

    everything: bool = False
    regions: tuple[str, ...] = ()
    association_id: str | None = None
    actor_org: str | None = None
    published_only: bool = False  # only published lessons, whoever asks (digests)
    q: str | None = None
    category: str | None = None
    region: str | None = None
    commodity: str | None = None
    language: str | None = None
    match_id: int | None = None
    limit: int = 50
    offset: int = 0


class LessonsMixin(IdempotencyMixin, BaseStore):
    """Write, list, publish and promote lessons; their audit; an organisation's lessons."""

    def lesson(self, lesson_id: int) -> dict | None:
        return next((_lesson(r) for r in self._rows("lessons", "id = :id", {"id": lesson_id},
                                                    "id")), None)

    def match_lessons(self, match_id: int) -> list[dict]:
        return [_lesson(r) for r in self._rows("lessons", "match_id = :match_id",
                                               {"match_id": match_id}, "id")]

    def save_lesson(self, match: dict, side: str, fields: dict, *, sensitive: bool,
                    region: str | None, actor: str, role: str, actor_org: str | None,
                    claim: Claim | None = None) -> tuple[dict, bool]:
        """Write the lesson of ``match``'s ``side`` (``fields``: text, worked, figures,
        language, and optionally published), or update the one there is; its audit row in
        the same transaction. Returns the lesson and whether it was created. The match must
        be at or past its outcome (checked again inside the transaction)."""
        at = _now()
        with self.writing():
            earlier = self.claimed(claim, "lessons")
            if earlier is not None:
                return self._claimed_lesson(int(earlier)), True
            row = self.db.execute("select status, outcome from matches where id = :id",
                                  {"id": match["id"]}).fetchone()
            if row is None:
                raise NotFound(f"no match with id {match['id']}")
            if row[0] not in OUTCOME_STATES or row[1] is None:
                raise Conflict("a lesson is written once the match's outcome is recorded "
                               f"(match {match['id']} is {row[0]})")
            existing = self.db.execute("select id from lessons where match_id = :match_id and "
                                       "side = :side", {"match_id": match["id"], "side": side}
                                       ).fetchone()
            values = {"text": fields["text"], "worked": int(bool(fields["worked"])),
                      "figures": json.dumps(fields.get("figures") or {}, sort_keys=True),
                      "language": fields["language"]}
            if existing is None:
                published = fields.get("published")
                lesson_id = int(self.db.insert("lessons", {
                    "match_id": match["id"], "side": side,
                    "association_id": match["association_id"], "owner_id": match["owner_id"],
                    "kind": match["kind"], "item_id": match["item_id"], "region": region,
                    "category": match.get("category"), "sensitive": int(sensitive), **values,
                    "published": int(not sensitive if published is None else published),
                    "actor": actor, "role": role, "actor_org": actor_org, "created_at": at,
                    "updated_at": at}))
                created = True
                self._lesson_audit(lesson_id, match, "write", actor, role, actor_org, at)
                self._claim(claim, "lessons", str(lesson_id))
            else:
                lesson_id, created = int(existing[0]), False
                changes = dict(values)
                if fields.get("published") is not None:
                    changes["published"] = int(fields["published"])
                sets = ", ".join(f'"{k}" = :{k}' for k in changes)
                # sensitivity only rises (the larger of the two, in either dialect)
                self.db.execute(f"update lessons set {sets}, sensitive = case when sensitive > "
                                ":sensitive then sensitive else :sensitive end, "
                                "updated_at = :at where id = :id",
                                {**changes, "sensitive": int(sensitive), "at": at,
                                 "id": lesson_id})
                self._lesson_audit(lesson_id, match, "update", actor, role, actor_org, at)
        return self.lesson(lesson_id), created

    def publish_lessons(self, match: dict, published: bool, *, actor: str, role: str,
                        actor_org: str | None) -> int:
        """Publish (or withdraw) every lesson of ``match``: the association's decision.
        Returns how many changed; each change audited."""
        at = _now()
        with self.writing():
            ids = [r[0] for r in self.db.execute(
                "select id from lessons where match_id = :match_id and published != :published "
                "order by side", {"match_id": match["id"], "published": int(published)}
            ).fetchall()]
            for lesson_id in ids:
                self.db.execute("update lessons set published = :published, updated_at = :at "
                                "where id = :id",
                                {"published": int(published), "at": at, "id": lesson_id})
                self._lesson_audit(lesson_id, match, "publish" if published else "withdraw",
                                   actor, role, actor_org, at)
        return len(ids)

    def mark_promoted(self, lesson_id: int, practice_id: str, *, actor: str, role: str,
                      actor_org: str | None) -> dict:
        """Record that the lesson became ``practice_id`` (its provenance), audited."""
        with self.writing():
            lesson = self.lesson(lesson_id)
            if lesson is None:
                raise NotFound(f"no lesson with id {lesson_id}")
            self.db.execute("update lessons set promoted_practice_id = :practice_id "
                            "where id = :id", {"practice_id": practice_id, "id": lesson_id})
            self._lesson_audit(lesson_id, {"id": lesson["match_id"],
                                           "association_id": lesson["association_id"]},
                               "promote", actor, role, actor_org, _now())
        return self.lesson(lesson_id)

    def claimed_practice(self, claim: Claim | None) -> str | None:
        """The practice a promotion made under ``claim`` before, if any."""
        return self.claimed(claim, "practices")

    def promotion_of(self, practice_id: str) -> dict | None:
        """The lesson a practice was promoted from, if it was."""
        return next((_lesson(r) for r in self._rows(
            "lessons", "promoted_practice_id = :practice_id", {"practice_id": practice_id},
            "id")), None)

    def list_lessons(self, q: LessonQuery) -> tuple[list[dict], int]:
        where, params = _where(self.db, q)
        sql = ("from lessons l left join associations a on a.id = l.association_id where "
               + " and ".join(where))
        total = self.db.execute(f"select count(*) {sql}", params).fetchone()[0]
        cursor = self.db.execute(f"select l.* {sql} order by l.updated_at desc, l.id desc "
                                 "limit :limit offset :offset",
                                 {**params, "limit": q.limit, "offset": q.offset})
        names = list(cursor.keys())
        return [_lesson(dict(zip(names, row))) for row in cursor.fetchall()], total

    def lesson_audit(self, lesson_ids: list[int]) -> list[dict]:
        rows: list[dict] = []
        for start in range(0, len(lesson_ids), 500):
            chunk = list(lesson_ids[start:start + 500])
            rows += self._rows("lesson_audit", "lesson_id in ("
                               + ", ".join(f":l{i}" for i in range(len(chunk))) + ")",
                               {f"l{i}": lesson_id for i, lesson_id in enumerate(chunk)}, "id")
        return rows

    def practice_exchanges(self, practice_ids: list[str]) -> dict[str, dict[str, int]]:
        """Per practice: ``taught`` (associations whose peer match on it has an outcome
        recorded) and ``worked`` (those of them with a lesson saying it worked)."""
        found: dict[str, dict[str, int]] = {}
        for start in range(0, len(practice_ids), 500):
            states, params = in_list("state", OUTCOME_STATES)
            items, chunk = in_list("item", practice_ids[start:start + 500])
            cursor = self.db.execute(
                "select m.item_id, count(distinct m.association_id), count(distinct case when "
                "exists (select 1 from lessons l where l.match_id = m.id and l.worked = 1) "
                "then m.association_id end) from matches m where m.kind = 'peer' and "
                f"m.outcome is not null and m.status in ({states})"
                f" and m.item_id in ({items}) group by m.item_id", {**params, **chunk})
            for item, taught, worked in cursor.fetchall():
                found[item] = {"taught": taught, "worked": worked}
        return found

    # ------------------------------------------------------------------ organisation data
    def lessons_involving(self, org_id: str) -> list[dict]:
        """The lessons of an organisation's matches (its own, or on its offering or
        practice)."""
        return [_lesson(r) for r in self._rows(
            "lessons", "association_id = :org_id or owner_id = :org_id", {"org_id": org_id},
            "id")]

    def delete_lessons_involving(self, org_id: str) -> tuple[int, int]:
        """Delete the lessons of an organisation's matches and their audit; the counts.
        Joins the caller's transaction."""
        with self.writing():
            params = {"org_id": org_id}
            ids = "select id from lessons where association_id = :org_id or owner_id = :org_id"
            audit = self.db.execute(f"delete from lesson_audit where lesson_id in ({ids})",
                                    params).rowcount
            lessons = self.db.execute("delete from lessons where association_id = :org_id or "
                                      "owner_id = :org_id", params).rowcount
        return lessons, audit

    # ------------------------------------------------------------------ helpers
    def _claimed_lesson(self, lesson_id: int) -> dict:
        lesson = self.lesson(lesson_id)
        if lesson is None:
            raise Conflict(f"the lesson {lesson_id} written with this Idempotency-Key has "
                           "been deleted since")
        return lesson

    def _lesson_audit(self, lesson_id: int, match: dict, action: str, actor: str, role: str,
                      actor_org: str | None, at: str) -> None:
        self.db.insert("lesson_audit", {
            "lesson_id": lesson_id, "match_id": match["id"],
            "association_id": match.get("association_id"), "action": action, "actor": actor,
            "actor_org": actor_org, "role": role, "at": at}, returning=None)


def _where(db: Sql, q: LessonQuery) -> tuple[list[str], dict]:
    where: list[str] = []
    params: dict = {}
    if q.published_only:
        where.append("l.published = 1")
    elif not q.everything:
        seen = ["l.published = 1"]
        if q.regions:
            marks, regions = in_list("scope_region", q.regions)
            seen.append(f"l.region in ({marks})")
            params.update(regions)
        if q.association_id:
            seen.append("l.association_id = :scope_association")
            params["scope_association"] = q.association_id
        if q.actor_org:
            seen.append("l.actor_org = :actor_org")
            params["actor_org"] = q.actor_org
        where.append(f"({' or '.join(seen)})")
    for name, clause, value in (
            ("category", "l.category = :category", q.category),
            ("region", "l.region = :region", q.region),
            ("language", "l.language = :language", q.language),
            ("match_id", "l.match_id = :match_id", q.match_id),
            ("commodity", dialect.json_list_has(db, "a.commodities", "commodity"), q.commodity)):
        if value is not None:
            where.append(clause)
            params[name] = value
    if q.q:
        clause, named = search_clause(db.postgresql, "lessons", "l", q.q)
        where.append(clause)
        params.update(named)
    return where or ["1 = 1"], params


def _lesson(row: dict) -> dict:
    """A lesson row as it is read (without PostgreSQL's ``rowid`` column, which SQLite's ``*``
    never lists)."""
    return {**{k: v for k, v in row.items() if k != "rowid"}, "worked": bool(row["worked"]), "published": bool(row["published"]),
            "sensitive": bool(row["sensitive"]),
            "figures": json.loads(row["figures"]) if row.get("figures") else {}}
