"""Proposed matches between a need and an offering (partner) or a practice (peer)."""

from __future__ import annotations

from matcher.store.base import BaseStore

# Matches in these states hold one slot of their offering's capacity.
HOLDING_CAPACITY = ("approved", "introduced", "active")


class MatchesMixin(BaseStore):
    """Reads the engine needs at suggestion time; the lifecycle lives alongside."""

    def capacity_used(self) -> dict[str, int]:
        """Offering id -> matches currently holding one of its slots."""
        marks = ",".join("?" * len(HOLDING_CAPACITY))
        cursor = self.db.execute(
            f"select item_id, count(*) from matches where kind = 'partner' and status in "
            f"({marks}) group by item_id", list(HOLDING_CAPACITY))
        return {item: count for item, count in cursor.fetchall()}

    def rejected_items(self, need_id: str, kind: str) -> set[str]:
        """Items a coordinator rejected for this need: never proposed again."""
        cursor = self.db.execute(
            "select item_id from matches where need_id = ? and kind = ? and status = 'rejected'",
            [need_id, kind])
        return {row[0] for row in cursor.fetchall()}
