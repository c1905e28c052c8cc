"""Match rounds: what a round needs to know of the open matches, and writing its proposals."""

from __future__ import annotations

import json

from matcher.errors import NotFound
from matcher.store.matches import MatchesMixin, now
from matcher.vocabulary import FINAL_STATES


class RoundsMixin(MatchesMixin):
    def open_matches(self) -> list[dict]:
        """Every match not rejected or closed: kind, need, item and owner (what a round must
        not duplicate, and what already takes a need's, an offering's or a teacher's room)."""
        marks = ",".join("?" * len(FINAL_STATES))
        cursor = self.db.execute(
            f"select kind, need_id, item_id, owner_id, status from matches "
            f"where status not in ({marks})", list(FINAL_STATES))
        names = list(cursor.keys())
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def create_round(self, report: dict, proposals: list[dict], *, regions: list[str],
                     per_need: int, actor: str, role: str, actor_org: str | None = None
                     ) -> int:
        """Save a round and its proposals (``proposed`` matches, each with its audit row) in
        one transaction: all or nothing. A pair matched or rejected meanwhile is a
        :class:`~matcher.errors.Conflict` and nothing is written."""
        at = now()
        with self.writing():
            cursor = self.db.execute(
                "insert into rounds (created_at, actor, role, actor_org, regions, per_need, "
                "report) values (?, ?, ?, ?, ?, ?, ?)",
                [at, actor, role, actor_org, json.dumps(regions), per_need, "{}"])
            round_id = int(cursor.lastrowid)
            ids = [self._insert_match({**row, "round_id": round_id}, actor=actor, role=role,
                                      actor_org=actor_org, at=at) for row in proposals]
            self.db.execute("update rounds set report = ? where id = ?",
                            [json.dumps({**report, "match_ids": ids}), round_id])
        return round_id

    def get_round(self, round_id: int) -> dict:
        row = self.db.execute("select * from rounds where id = ?", [round_id]).fetchone()
        if row is None:
            raise NotFound(f"no round with id {round_id}")
        names = [d[0] for d in self.db.execute("select * from rounds limit 0").description]
        found = dict(zip(names, row))
        found["regions"] = json.loads(found["regions"])
        found["report"] = json.loads(found["report"])
        return found
