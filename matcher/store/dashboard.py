"""The reads behind a region's dashboard: its needs and how far each got, its matches by
status, the associations' answers to introductions, the times from proposal to
introduction, and the needs whose suggestions had nothing good (the unserved needs, marked
when suggestions are worked out). ``regions=None`` reads every region."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.sql import Sql, in_list


def _in_regions(regions: list[str] | None) -> tuple[str, dict[str, Any]]:
    """A condition on ``a.region`` (the association's network), and its named parameters
    (``region0``...); none selects nothing."""
    if regions is None:
        return "1 = 1", {}
    if not regions:
        return "1 = 0", {}
    marks, params = in_list("region", regions)
    return f"a.region in ({marks})", params


def _order(db: Sql, *columns: str) -> str:
    """``order by`` the text ``columns`` as SQLite sorts them (nulls first, binary order)."""
    return "order by " + ", ".join(f"{dialect.text_order(db, c)} nulls first" for c in columns)


class DashboardMixin(BaseStore):
    """Aggregates over needs and matches, by the association's region."""

    def region_needs(self, regions: list[str] | None) -> list[dict]:
        """Each need of the regions' associations: ``id``, ``association_id``, the
        association's ``association_name`` and ``region``, the given ``category`` (or None),
        ``text``, and ``introduced`` (whether any match of it reached an introduction)."""
        where, params = _in_regions(regions)
        cursor = self.db.execute(
            "select n.id, n.association_id, a.name, a.region, n.category, n.text, "
            "exists(select 1 from matches m where m.need_id = n.id "
            "and m.introduced_at is not null) "
            f"from needs n join associations a on a.id = n.association_id where {where} "
            f"{_order(self.db, 'a.region', 'n.association_id')}, n.position nulls first, "
            f"{dialect.text_order(self.db, 'n.id')}", params)
        names = ("id", "association_id", "association_name", "region", "category", "text",
                 "introduced")
        return [{**dict(zip(names, row)), "introduced": bool(row[-1])}
                for row in cursor.fetchall()]

    def match_status_counts(self, regions: list[str] | None) -> dict[str, int]:
        """Status -> how many of the regions' matches are in it now."""
        where, params = _in_regions(regions)
        cursor = self.db.execute(
            "select m.status, count(*) from matches m join associations a "
            f"on a.id = m.association_id where {where} group by m.status", params)
        return {status: count for status, count in cursor.fetchall()}

    def introduction_answers(self, regions: list[str] | None) -> tuple[int, int]:
        """How many of the regions' introductions the associations accepted, and how many
        they declined."""
        where, params = _in_regions(regions)
        row = self.db.execute(
            "select count(m.introduced_at), coalesce(sum(case when exists(select 1 from audit "
            "d where d.match_id = m.id and d.action = 'decline') then 1 else 0 end), 0) "
            "from matches m "
            f"join associations a on a.id = m.association_id where {where}", params).fetchone()
        return int(row[0]), int(row[1])

    def introduction_times(self, regions: list[str] | None) -> list[tuple[str, str]]:
        """(proposed at, introduced at) of each of the regions' introduced matches."""
        where, params = _in_regions(regions)
        cursor = self.db.execute(
            "select m.created_at, m.introduced_at from matches m join associations a "
            f"on a.id = m.association_id where m.introduced_at is not null and {where}",
            params)
        return [(created, introduced) for created, introduced in cursor.fetchall()]

    # ------------------------------------------------------------------ unserved needs
    def mark_unserved(self, need_id: str, kind: str, best_strength: float | None) -> None:
        """Record that the need's suggestions of ``kind`` have none at least ``good`` now
        (``since`` stays the first time; the data version does not change)."""
        key = {"need_id": need_id, "kind": kind}
        known = self.db.execute("select best_strength from unserved_needs where need_id = "
                                ":need_id and kind = :kind", key).fetchone()
        if known is not None and known[0] == best_strength:
            return  # as recorded: no write (this runs on every suggestion request)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.writing():
            self.db.execute(
                "insert into unserved_needs (need_id, kind, best_strength, since, checked_at) "
                "select cast(:need_id as text), cast(:kind as text), "
                "cast(:best_strength as double precision), cast(:at as text), "
                "cast(:at as text) where exists (select 1 from needs where id = :need_id) "
                "on conflict (need_id, kind) do update set best_strength = "
                "excluded.best_strength, checked_at = excluded.checked_at",
                {**key, "best_strength": best_strength, "at": at})

    def clear_unserved(self, need_id: str, kind: str) -> None:
        """The need's suggestions of ``kind`` have a good one now: it is served."""
        if self.is_unserved(need_id, kind):
            with self.writing():
                self.db.execute("delete from unserved_needs where need_id = :need_id and "
                                "kind = :kind", {"need_id": need_id, "kind": kind})

    def is_unserved(self, need_id: str, kind: str) -> bool:
        return self.db.execute("select 1 from unserved_needs where need_id = :need_id and "
                               "kind = :kind", {"need_id": need_id, "kind": kind}
                               ).fetchone() is not None

    def unserved_needs(self, regions: list[str] | None, kind: str = "partner") -> list[dict]:
        """The regions' needs marked unserved for ``kind`` and not introduced yet: ``id``,
        ``association_id``, ``association_name``, ``region``, the given ``category`` (or
        None), ``text``, ``confidential``, ``best_strength`` and ``since``."""
        where, params = _in_regions(regions)
        cursor = self.db.execute(
            "select n.id, n.association_id, a.name, a.region, n.category, n.text, "
            "n.confidential, u.best_strength, u.since from unserved_needs u "
            "join needs n on n.id = u.need_id join associations a on a.id = n.association_id "
            f"where u.kind = :kind and {where} and not exists (select 1 from matches m "
            "where m.need_id = n.id and m.introduced_at is not null) "
            f"{_order(self.db, 'a.region', 'n.category', 'u.since', 'n.id')}",
            {**params, "kind": kind})
        names = ("id", "association_id", "association_name", "region", "category", "text",
                 "confidential", "best_strength", "since")
        return [{**dict(zip(names, row)), "confidential": bool(row[6])}
                for row in cursor.fetchall()]
