"""Confidential needs: a stored fact that only rises.

A need becomes confidential when it is flagged sensitive, or, unless flagged otherwise, given
the sgbv topic or inferred to be about it; its matches not yet introduced become redacted with it. Only
:meth:`ConfidentialMixin.clear_confidential` lowers it, and that writes a ``need_audit`` row.
Nothing here bumps the data version: confidentiality does not change rankings.
"""

from __future__ import annotations

from datetime import UTC, datetime

from matcher.errors import NotFound
from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.sql import in_list
from matcher.vocabulary import SENSITIVE_CATEGORIES

_REDACT_MATCHES = ("update matches set redacted = 1 where redacted = 0 and introduced_at is null "
                   "and need_id in (select id from needs where confidential = 1)")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ConfidentialMixin(BaseStore):
    """Raise, clear and audit the confidentiality of needs."""

    def _settle_confidential(self) -> None:
        """Inside a write transaction: flagged needs and needs given a sensitive topic are
        confidential, and so are the open matches of every confidential need."""
        topics, params = in_list("topic", sorted(SENSITIVE_CATEGORIES))
        self.db.execute(f"update needs set confidential = 1 where confidential = 0 and "
                        f"(sensitive = 1 or (sensitive is null and category in ({topics})))",
                        params)
        self.db.execute(_REDACT_MATCHES)

    def raise_confidential(self, need_ids: list[str], *, actor: str, role: str,
                           note: str) -> list[str]:
        """Make the needs of ``need_ids`` that carry no flag confidential (an inference said
        so); one audit row each. Returns the ids that were raised now."""
        if not need_ids:
            return []
        with self.writing():
            marks, params = in_list("id", need_ids)
            rows = self.db.execute(
                f"select id, association_id from needs where id in ({marks}) and "
                f"confidential = 0 and sensitive is null "
                f"order by {dialect.text_order(self.db, 'id')}",
                params).fetchall()
            if not rows:
                return []
            at = _now()
            for need_id, association_id in rows:
                self.db.execute("update needs set confidential = 1 where id = :id",
                                {"id": need_id})
                self._need_audit(need_id, association_id, "raise_sensitivity", actor, None, role,
                                 at, note)
            self.db.execute(_REDACT_MATCHES)
        return [r[0] for r in rows]

    def clear_confidential(self, need_id: str, *, actor: str, role: str,
                           actor_org: str | None, note: str | None = None) -> dict:
        """Clear a need's confidentiality, explicitly (flag it not sensitive); one audit row.
        Its matches stay redacted until their introductions."""
        with self.writing():
            row = self.db.execute("select association_id, confidential from needs "
                                  "where id = :id", {"id": need_id}).fetchone()
            if row is None:
                raise NotFound(f"no need with id {need_id!r}")
            self.db.execute("update needs set confidential = 0, sensitive = 0 where id = :id",
                            {"id": need_id})
            if row[1]:
                self._need_audit(need_id, row[0], "clear_sensitivity", actor, actor_org, role,
                                 _now(), note)
        return next(self._rows("needs", "id = :id", {"id": need_id}))

    def need_audit(self, *, need_id: str | None = None,
                   association_id: str | None = None) -> list[dict]:
        """The sensitivity changes of one need, or of every need of an association."""
        if need_id is not None:
            return list(self._rows("need_audit", "need_id = :need_id", {"need_id": need_id},
                                   "id"))
        return list(self._rows("need_audit", "association_id = :association_id",
                               {"association_id": association_id}, "id"))

    def _need_audit(self, need_id: str, association_id: str, action: str, actor: str,
                    actor_org: str | None, role: str, at: str, note: str | None) -> None:
        self.db.insert("need_audit", {
            "need_id": need_id, "association_id": association_id, "action": action,
            "actor": actor, "actor_org": actor_org, "role": role, "at": at, "note": note,
        }, returning=None)
