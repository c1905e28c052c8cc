"""Match rounds: what a round needs to know of the open matches, and writing its proposals."""

from __future__ import annotations

import json

from matcher.errors import NotFound
from matcher.store.matches import MatchesMixin, in_list, now
from matcher.vocabulary import FINAL_STATES


class RoundsMixin(MatchesMixin):
    def open_matches(self) -> list[dict]:
        """Every match not rejected or closed: kind, need, item and owner (what a round must
        not duplicate, and what already takes a need's, an offering's or a teacher's room)."""
        marks, params = in_list("status", FINAL_STATES)
        return self.db.rows(
            f"select kind, need_id, item_id, owner_id, status from matches "
            f"where status not in ({marks})", params)

    def create_round(self, report: dict, proposals: list[dict], *, regions: list[str],
                     per_need: int, actor: str, role: str, actor_org: str | None = None
                     ) -> int:
        """Save a round and its proposals (``proposed`` matches, each with its audit row) in
        one transaction: all or nothing. A pair matched or rejected meanwhile is a
        :class:`~matcher.errors.Conflict` and nothing is written."""
        at = now()
        with self.writing():
            round_id = int(self.db.insert("rounds", {
                "created_at": at, "actor": actor, "role": role, "actor_org": actor_org,
                "regions": json.dumps(regions), "per_need": per_need, "report": "{}"}))
            ids = [self._insert_match({**row, "round_id": round_id}, actor=actor, role=role,
                                      actor_org=actor_org, at=at) for row in proposals]
            self.db.execute("update rounds set report = :report where id = :id",
                            {"report": json.dumps({**report, "match_ids": ids}), "id": round_id})
        return round_id

    def get_round(self, round_id: int) -> dict:
        found = self.db.row("select * from rounds where id = :id", {"id": round_id})
        if found is None:
            raise NotFound(f"no round with id {round_id}")
        found["regions"] = json.loads(found["regions"])
        found["report"] = json.loads(found["report"])
        return found
