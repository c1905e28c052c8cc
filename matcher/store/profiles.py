"""Profiles: partners, offerings, associations, needs, practices; exchange import and export."""

from __future__ import annotations

from dataclasses import dataclass, field

from matcher.errors import InvalidInput
from matcher.exchange import Association, Exchange, Need, Offering, Partner, Practice
from matcher.store.base import BaseStore, _encode


@dataclass
class ImportReport:
    """What one import changed, per table: ids inserted, updated, and left as they were."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


class ProfilesMixin(BaseStore):
    """Reads and the all-or-nothing exchange import / export."""

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
                Need(id=row["id"], text=row["text"], category=row["category"],
                     sensitive=row["sensitive"]))
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


def _offering(row: dict) -> Offering:
    return Offering(
        id=row["id"], title=row["title"], description=row["description"],
        category=row["category"], regions=row["regions"], countries=row["countries"],
        languages=row["languages"], commodities=row["commodities"],
        eligibility={"women_led_only": row["women_led_only"], "min_members": row["min_members"],
                     "requires_formal_license": row["requires_formal_license"]},
        capacity=row["capacity"], active=row["active"], valid_until=row["valid_until"],
    )


def _rows(doc: Exchange) -> tuple[list[dict], ...]:
    partners, offerings, associations, needs, practices = [], [], [], [], []
    for partner in doc.partners:
        partners.append(partner.model_dump(mode="json", exclude={"offerings"}))
        for position, offering in enumerate(partner.offerings):
            row = offering.model_dump(mode="json", exclude={"eligibility"})
            row.update(offering.eligibility.model_dump(), partner_id=partner.id, position=position)
            offerings.append(row)
    for assoc in doc.associations:
        associations.append(assoc.model_dump(mode="json", exclude={"needs", "practices"}))
        for position, need in enumerate(assoc.needs):
            needs.append({**need.model_dump(mode="json"), "association_id": assoc.id,
                          "position": position})
        for position, practice in enumerate(assoc.practices):
            practices.append({**practice.model_dump(mode="json"), "association_id": assoc.id,
                              "position": position})
    return partners, offerings, associations, needs, practices
