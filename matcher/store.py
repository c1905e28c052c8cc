"""The one module that talks SQL: profiles, embedding vectors and metadata in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from matcher.errors import InvalidInput
from matcher.exchange import Association, Exchange, Need, Offering, Partner, Practice
from matcher.migrations import migrations

_JSON_LISTS = {"languages", "regions", "countries", "commodities"}
_BOOLS = {"women_led_only", "requires_formal_license", "active", "women_led", "formal_license"}


@dataclass
class ImportReport:
    """What one import changed, per table: ids inserted, updated, and left as they were."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


def _encode(row: dict) -> dict:
    return {k: json.dumps(v) if k in _JSON_LISTS else (int(v) if k in _BOOLS else v)
            for k, v in row.items()}


def _decode(row: dict) -> dict:
    return {k: json.loads(v) if k in _JSON_LISTS and v is not None
            else (bool(v) if k in _BOOLS else v) for k, v in row.items()}


class Store:
    """A SQLite database of the exchange; open it with ``Store(path)`` (migrates on open)."""

    def __init__(self, path: str | Path, *, check_same_thread: bool = True):
        self.path = Path(path)
        conn = sqlite3.connect(str(self.path), check_same_thread=check_same_thread, timeout=30,
                               isolation_level=None)  # transactions are explicit, see transaction()
        self.db = Database(conn)
        self.db.execute("PRAGMA journal_mode=wal")
        self.db.execute("PRAGMA foreign_keys=ON")
        migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction, begun IMMEDIATE; rolled back whole on any error."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self.db
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def data_version(self) -> int:
        row = self.db.execute("select value from meta where key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def _bump_version(self) -> None:
        self.db.execute(
            "insert into meta (key, value) values ('data_version', '1') on conflict(key) "
            "do update set value = cast(value as integer) + 1"
        )

    # ------------------------------------------------------------------ import / export
    def import_exchange(self, doc: Exchange) -> ImportReport:
        """Upsert every record of ``doc`` by id in one transaction: all or nothing."""
        report = ImportReport()
        with self.transaction():
            partners, offerings, associations, needs, practices = _rows(doc)
            self._check_parents(offerings, "offerings", "partner_id", "partner")
            self._check_parents(needs, "needs", "association_id", "association")
            self._check_parents(practices, "practices", "association_id", "association")
            for table, rows in (("partners", partners), ("offerings", offerings),
                                ("associations", associations), ("needs", needs),
                                ("practices", practices)):
                self._upsert_changed(table, rows, report)
            if report.changed:
                self._bump_version()
        return report

    def _check_parents(self, rows: list[dict], table: str, parent_key: str, parent: str) -> None:
        """An id already owned by another parent may not silently move to a new one."""
        existing = self._existing(table, [r["id"] for r in rows])
        for row in rows:
            old = existing.get(row["id"])
            if old and old[parent_key] != row[parent_key]:
                raise InvalidInput(
                    f"already belongs to {parent} {old[parent_key]!r}, not {row[parent_key]!r}",
                    record=row["id"], field="id",
                )

    def _existing(self, table: str, ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(f"select * from [{table}] where id in ({marks})", chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                found[values[0]] = dict(zip(names, values))
        return found

    def _upsert_changed(self, table: str, rows: list[dict], report: ImportReport) -> None:
        encoded = [_encode(r) for r in rows]
        existing = self._existing(table, [r["id"] for r in encoded])
        new = [r for r in encoded if r["id"] not in existing]
        changed = [r for r in encoded
                   if r["id"] in existing and any(existing[r["id"]].get(k) != v for k, v in r.items())]
        report.inserted[table] = len(new)
        report.updated[table] = len(changed)
        report.unchanged[table] = len(encoded) - len(new) - len(changed)
        if new or changed:
            self.db[table].upsert_all(new + changed, pk="id")

    def export_exchange(self) -> Exchange:
        """The whole store as an exchange document, in import order."""
        offerings: dict[str, list[Offering]] = {}
        for row in self._rows("offerings", order="position, rowid"):
            offerings.setdefault(row["partner_id"], []).append(_offering(row))
        needs: dict[str, list[Need]] = {}
        for row in self._rows("needs", order="position, rowid"):
            needs.setdefault(row["association_id"], []).append(
                Need(id=row["id"], text=row["text"], category=row["category"]))
        practices: dict[str, list[Practice]] = {}
        for row in self._rows("practices", order="position, rowid"):
            practices.setdefault(row["association_id"], []).append(
                Practice(id=row["id"], text=row["text"], category=row["category"]))
        return Exchange(
            partners=[Partner(**row, offerings=offerings.get(row["id"], []))
                      for row in self._rows("partners")],
            associations=[
                Association(**row, needs=needs.get(row["id"], []),
                            practices=practices.get(row["id"], []))
                for row in self._rows("associations")
            ],
        )

    # ------------------------------------------------------------------ reads
    def _rows(self, table: str, where: str = "", params: Iterable = (), order: str = "rowid"):
        sql = f"select * from [{table}]" + (f" where {where}" if where else "") + f" order by {order}"
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            yield _decode(dict(zip(names, values)))

    def partners(self) -> list[dict]:
        return list(self._rows("partners"))

    def offerings(self) -> list[dict]:
        return list(self._rows("offerings"))

    def associations(self) -> list[dict]:
        return list(self._rows("associations"))

    def needs(self, association_id: str | None = None) -> list[dict]:
        if association_id is None:
            return list(self._rows("needs"))
        return list(self._rows("needs", "association_id = ?", [association_id], "position, rowid"))

    def practices(self) -> list[dict]:
        return list(self._rows("practices"))

    def get(self, table: str, record_id: str) -> dict | None:
        """One record of ``table`` (partners, offerings, associations, needs, practices)."""
        if table not in {"partners", "offerings", "associations", "needs", "practices"}:
            raise ValueError(f"unknown table {table!r}")
        return next(self._rows(table, "id = ?", [record_id]), None)

    def counts(self) -> dict[str, int]:
        return {t: self.db[t].count for t in
                ("partners", "offerings", "associations", "needs", "practices", "vectors")}

    # ------------------------------------------------------------------ vectors
    def known_hashes(self, embedder: str) -> set[str]:
        cursor = self.db.execute("select content_hash from vectors where embedder = ?", [embedder])
        return {row[0] for row in cursor.fetchall()}

    def save_vectors(self, embedder: str, hashes: list[str], matrix: np.ndarray) -> None:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        rows = [{"embedder": embedder, "content_hash": h, "dim": int(matrix.shape[1]),
                 "vector": matrix[i].tobytes()} for i, h in enumerate(hashes)]
        with self.transaction():
            self.db["vectors"].upsert_all(rows, pk=("embedder", "content_hash"))

    def load_vectors(self, embedder: str, hashes: list[str]) -> np.ndarray:
        """Vectors for ``hashes`` in order; a missing one raises KeyError."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"select content_hash, dim, vector from vectors where embedder = ? "
                f"and content_hash in ({marks})", [embedder, *chunk])
            for content_hash, dim, blob in cursor.fetchall():
                found[content_hash] = np.frombuffer(blob, dtype=np.float32, count=dim)
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[h] for h in hashes])


def _offering(row: dict) -> Offering:
    return Offering(
        id=row["id"], title=row["title"], description=row["description"],
        category=row["category"], regions=row["regions"], countries=row["countries"],
        languages=row["languages"], commodities=row["commodities"],
        eligibility={"women_led_only": row["women_led_only"], "min_members": row["min_members"],
                     "requires_formal_license": row["requires_formal_license"]},
        capacity=row["capacity"], active=row["active"],
    )


def _rows(doc: Exchange) -> tuple[list[dict], ...]:
    partners, offerings, associations, needs, practices = [], [], [], [], []
    for partner in doc.partners:
        partners.append(partner.model_dump(exclude={"offerings"}))
        for position, offering in enumerate(partner.offerings):
            row = offering.model_dump(exclude={"eligibility"})
            row.update(offering.eligibility.model_dump(), partner_id=partner.id, position=position)
            offerings.append(row)
    for assoc in doc.associations:
        associations.append(assoc.model_dump(exclude={"needs", "practices"}))
        for position, need in enumerate(assoc.needs):
            needs.append({**need.model_dump(), "association_id": assoc.id, "position": position})
        for position, practice in enumerate(assoc.practices):
            practices.append({**practice.model_dump(), "association_id": assoc.id,
                              "position": position})
    return partners, offerings, associations, needs, practices
