"""What the fusion learns from: the decisions on matches (read from ``matches`` and ``audit``),
the suggestions associations marked "not interested", and the fitted fusion models."""

from __future__ import annotations

import json

from matcher.store import dialect
from matcher.store.idempotency import Claim, IdempotencyMixin
from matcher.store.matches import now


class LearningMixin(IdempotencyMixin):
    """Labels for ``matcher train`` and the models it stores."""

    # ------------------------------------------------------------------ not interested
    def mark_not_interested(self, need_id: str, association_id: str, kind: str, item_id: str,
                            *, actor: str, role: str, actor_org: str | None = None,
                            claim: Claim | None = None) -> tuple[dict, bool]:
        """Record that the need's association does not want this suggestion; the row, and
        whether it is new (marking a pair twice keeps the first row). Under a ``claim`` made
        before for another request: Conflict."""
        with self.writing():
            self.claimed(claim, "not_interested")
            existing = self._not_interested(need_id, kind, item_id)
            if existing is not None:
                return existing, False
            mark_id = self.db.insert("not_interested", {
                "need_id": need_id, "association_id": association_id, "kind": kind,
                "item_id": item_id, "actor": actor, "actor_org": actor_org, "role": role,
                "at": now()})
            self._claim(claim, "not_interested", str(mark_id))
            return self._not_interested(need_id, kind, item_id), True  # type: ignore[return-value]

    def _not_interested(self, need_id: str, kind: str, item_id: str) -> dict | None:
        return next(self._rows("not_interested", "need_id = :need_id and kind = :kind and "
                               "item_id = :item_id", {"need_id": need_id, "kind": kind,
                                                      "item_id": item_id}, "id"), None)

    def not_interested_by(self, association_id: str) -> list[dict]:
        """The not-interested marks an association made, oldest first."""
        return list(self._rows("not_interested", "association_id = :association_id",
                               {"association_id": association_id}, "id"))

    def not_interested_items(self, need_id: str, kind: str) -> set[str]:
        """Items the need's association marked not interested: never suggested again."""
        cursor = self.db.execute(
            "select item_id from not_interested where need_id = :need_id and kind = :kind",
            {"need_id": need_id, "kind": kind})
        return {row[0] for row in cursor.fetchall()}

    def delete_not_interested_involving(self, *, association_id: str | None = None,
                                        partner_id: str | None = None) -> int:
        """Forget an organisation's not-interested marks (its needs, its practices, or its
        offerings); joins the caller's transaction."""
        if association_id is not None:
            where = ("association_id = :org_id or (kind = 'peer' and item_id in (select id "
                     "from practices where association_id = :org_id))")
            params = {"org_id": association_id}
        else:
            where = ("kind = 'partner' and item_id in (select id from offerings where "
                     "partner_id = :org_id)")
            params = {"org_id": partner_id}
        with self.writing():
            return self.db.execute(f"delete from not_interested where {where}", params).rowcount

    # ------------------------------------------------------------------ decisions
    def match_decisions(self) -> list[dict]:
        """Every match past ``proposed``: id, need_id, kind, item_id, status, reason,
        outcome, introduced_at, and ``actions``: the lifecycle actions taken on it."""
        cursor = self.db.execute(
            "select m.id, m.need_id, m.kind, m.item_id, m.status, m.reason, m.outcome, "
            f"m.introduced_at, (select {dialect.text_list(self.db, 'a.action', 'a.id')} "
            "from audit a where a.match_id = m.id) from matches m "
            "where m.status <> 'proposed' order by m.id")
        names = ["id", "need_id", "kind", "item_id", "status", "reason", "outcome",
                 "introduced_at", "actions"]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
        for row in rows:
            row["actions"] = set((row["actions"] or "").split(","))
        return rows

    def not_interested_marks(self) -> list[dict]:
        """Every not-interested mark, oldest first."""
        return list(self._rows("not_interested", order="id"))

    # ------------------------------------------------------------------ fusion models
    def save_fusion_model(self, model: dict, *, trained_at: str, decisions: int,
                          seen: dict) -> dict:
        """Store a fitted fusion model (JSON) with its date, the number of decisions and
        which ones it saw; its size is the length of its JSON. Returns the stored row."""
        text = json.dumps(model, ensure_ascii=False, sort_keys=True)
        with self.writing():
            model_id = int(self.db.insert("fusion_models", {
                "trained_at": trained_at, "decisions": decisions, "size": len(text.encode()),
                "model": text, "seen": json.dumps(seen)}))
        return self.fusion_model(model_id)  # type: ignore[return-value]

    def fusion_model(self, model_id: int) -> dict | None:
        row = next(self._rows("fusion_models", "id = :id", {"id": model_id}, "id"), None)
        if row is not None:
            row["model"] = json.loads(row["model"])
            row["seen"] = json.loads(row["seen"]) if row["seen"] else {}
        return row

    def latest_fusion_model_id(self) -> int | None:
        """The id of the newest fusion model, or None when none was trained."""
        row = self.db.execute("select max(id) from fusion_models").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def forget_fusion_models(self) -> int:
        """Delete every stored fusion model (back to the hand weights); how many."""
        with self.writing():
            return self.db.execute("delete from fusion_models").rowcount
