"""Idempotency keys: which record a caller's create with a given key made, so that a retry
returns it instead of writing another. The key is stored in the create's own transaction,
and kept :data:`KEEP_DAYS` days: an older key is forgotten (the next create under a key
removes every expired one), so the table does not grow for ever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matcher.errors import Conflict
from matcher.store.base import BaseStore


@dataclass(frozen=True)
class Claim:
    """A create made under ``key`` by ``owner`` (a caller's identity); ``fingerprint`` is a
    hash of the request (method, path and body), never the body itself."""

    owner: str
    key: str
    fingerprint: str


# Long enough for a field office whose connection comes back days later to retry safely.
KEEP_DAYS = 30


def _now() -> datetime:
    return datetime.now(UTC)


def _cutoff() -> str:
    """The creation time before which a key is forgotten (ISO 8601, as ``created_at``)."""
    return (_now() - timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")


class IdempotencyMixin(BaseStore):
    """Looks claims up, and records them inside a create's transaction."""

    def claimed(self, claim: Claim | None, table: str) -> str | None:
        """The id of the ``table`` record created under ``claim`` within the last
        :data:`KEEP_DAYS` days, or None. A key used in that time for another request (or
        another kind of record) is a Conflict."""
        if claim is None:
            return None
        row = self.db.execute(
            "select fingerprint, record_table, record_id from idempotency where owner = "
            ":owner and key = :key and created_at >= :cutoff",
            {"owner": claim.owner, "key": claim.key, "cutoff": _cutoff()}).fetchone()
        if row is None:
            return None
        fingerprint, record_table, record_id = row
        if fingerprint != claim.fingerprint or record_table != table:
            raise Conflict("this Idempotency-Key was used for another request; use a new key "
                           "for a new request")
        return record_id

    def _claim(self, claim: Claim | None, table: str, record_id: str) -> None:
        """Record inside the caller's transaction that ``claim`` created ``record_id``,
        forgetting the expired keys (an expired one may be this very key)."""
        if claim is not None:
            self.db.execute("delete from idempotency where created_at < :cutoff",
                            {"cutoff": _cutoff()})
            self.db.insert("idempotency", {
                "owner": claim.owner, "key": claim.key, "fingerprint": claim.fingerprint,
                "record_table": table, "record_id": record_id,
                "created_at": _now().isoformat(timespec="seconds"),
            }, returning=None)
