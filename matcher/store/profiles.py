"""Profiles: partners, offerings, associations, needs, practices; exchange import and export;
record-by-record CRUD and the filtered, sorted, paginated lists of the API."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from matcher import migrations
from matcher.errors import Conflict, InvalidInput, NotFound
from matcher.exchange import (
    Association,
    Eligibility,
    Exchange,
    Need,
    Offering,
    Partner,
    Practice,
)
from matcher.store import dialect
from matcher.store.base import _decode, _encode
from matcher.store.confidential import ConfidentialMixin
from matcher.store.idempotency import Claim, IdempotencyMixin
from matcher.store.sql import Sql, in_list
from matcher.store.vectors import Vector, VectorsMixin
from matcher.vocabulary import SENSITIVE_CATEGORIES

PROFILE_TABLES = ("partners", "offerings", "associations", "needs", "practices")
# A child table's parent key and parent table.
PARENTS = {"needs": ("association_id", "associations"),
           "practices": ("association_id", "associations"),
           "offerings": ("partner_id", "partners")}
# What a record of each table is called in messages.
NOUNS = {"partners": "partner", "offerings": "offering", "associations": "association",
         "needs": "need", "practices": "practice"}
# The fields the embedded text of a record is made of (matcher.ranking.embedding_sync).
_TEXT_FIELDS = {"needs": ("text",), "practices": ("text",), "offerings": ("title", "description")}
# The columns each list may be sorted by (``-column`` for descending); ties go by id.
SORTABLE = {
    "associations": ("id", "name", "country", "region", "members"),
    "partners": ("id", "name", "type"),
    "offerings": ("id", "title", "category", "partner_id", "capacity", "valid_until"),
    "needs": ("id", "association_id", "category"),
    "practices": ("id", "association_id", "category"),
}
# A list with ``q`` may be sorted by how well each record matches it, the best first.
RELEVANCE = "relevance"
# The sortable columns that hold numbers (the others hold text).
_NUMERIC = {"members", "capacity"}
# The free-text columns ``q`` searches, per table (each has its FTS5 index ``<table>_fts``).
SEARCHED = migrations.SEARCH_COLUMNS
# A word of a search, as the index's tokenizer (unicode61) splits words: letters and digits.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Scope:
    """Whose private records (needs) a caller may list: every association's, or those of the
    associations in ``regions`` and of ``association_id``."""

    everything: bool = False
    regions: frozenset[str] = frozenset()
    association_id: str | None = None

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.regions and self.association_id is None


@dataclass
class ImportReport:
    """What one import changed, per table: ids inserted, updated, and left as they were."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


class ProfilesMixin(ConfidentialMixin, IdempotencyMixin, VectorsMixin):
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
                self._settle_confidential()
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
            self.db.upsert_all(table, new + changed, "id")

    def export_exchange(self) -> Exchange:
        """The whole store as an exchange document, in import order."""
        offerings: dict[str, list[Offering]] = {}
        for row in self._rows("offerings", order="position, rowid"):
            offerings.setdefault(row["partner_id"], []).append(offering_record(row))
        needs: dict[str, list[Need]] = {}
        for row in self._rows("needs", order="position, rowid"):
            needs.setdefault(row["association_id"], []).append(
                Need(id=row["id"], text=row["text"], category=row["category"],
                     sensitive=exported_flag(row)))
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

    def offerings(self, partner_id: str | None = None) -> list[dict]:
        if partner_id is None:
            return list(self._rows("offerings"))
        return list(self._rows("offerings", "partner_id = :partner_id",
                               {"partner_id": partner_id}, "position, rowid"))

    def associations(self) -> list[dict]:
        return list(self._rows("associations"))

    def needs(self, association_id: str | None = None) -> list[dict]:
        if association_id is None:
            return list(self._rows("needs"))
        return list(self._rows("needs", "association_id = :association_id",
                               {"association_id": association_id}, "position, rowid"))

    def practices(self) -> list[dict]:
        return list(self._rows("practices"))

    def text_fields(self, table: str) -> list[dict]:
        """Each record of ``table`` (needs, practices, offerings) with only its id and the
        fields its embedded text is made of, in insertion order: no other field is decoded."""
        columns = ["id", *_TEXT_FIELDS[table]]
        sql = f'select {", ".join(columns)} from "{table}" order by rowid'
        return [dict(zip(columns, row)) for row in self.db.execute(sql).all()]

    def get(self, table: str, record_id: str) -> dict | None:
        """One record of ``table`` (partners, offerings, associations, needs, practices)."""
        if table not in PROFILE_TABLES:
            raise ValueError(f"unknown table {table!r}")
        return next(self._rows(table, "id = :id", {"id": record_id}), None)

    def counts(self) -> dict[str, int]:
        return {t: self.db.value(f'select count(*) from "{t}"') for t in
                ("partners", "offerings", "associations", "needs", "practices", "vectors")}

    # ------------------------------------------------------------------ one record at a time
    def create_record(self, table: str, record: BaseModel, parent_id: str | None = None, *,
                      vectors: Sequence[Vector] = (), claim: Claim | None = None) -> dict:
        """Insert one validated exchange record (an :class:`Association`, a :class:`Need` of
        association ``parent_id``, ...) with the ``vectors`` of its text in one transaction
        and return it as stored: no reader sees the record without them. Conflict when its id
        is taken; NotFound when the parent is gone. A new need, practice or offering goes last
        in its parent's order. Under a ``claim`` made before, nothing is written and the
        record that claim created is returned."""
        row = _record_row(table, record)
        with self.writing():
            earlier = self.claimed(claim, table)
            if earlier is not None:
                return self.claimed_record(table, earlier)
            if self._existing(table, [row["id"]]):
                raise Conflict(f"the id {row['id']!r} is taken (by another {NOUNS[table]})")
            if table in PARENTS:
                key, parent_table = PARENTS[table]
                if parent_id is None or not self._existing(parent_table, [parent_id]):
                    raise NotFound(f"no {NOUNS[parent_table]} with id {parent_id!r}")
                last = self.db.value(f'select max(position) from "{table}" where "{key}" = '
                                     ":parent_id", {"parent_id": parent_id})
                row.update({key: parent_id, "position": 0 if last is None else last + 1})
            self._put_vectors(vectors)
            self.db.insert(table, _encode(row), returning=None)
            if table == "needs":
                self._settle_confidential()
            self._claim(claim, table, row["id"])
            self._bump_version()
        return self.get(table, row["id"])

    def claimed_record(self, table: str, record_id: str) -> dict:
        """The record a claim created (Conflict when it has been deleted since)."""
        record = self.get(table, record_id)
        if record is None:
            raise Conflict(f"the {NOUNS[table]} {record_id!r} created with this Idempotency-Key "
                           "has been deleted since")
        return record

    def update_record(self, table: str, record: BaseModel, *,
                      vectors: Sequence[Vector] = ()) -> dict:
        """Replace the fields of one record (never its id, parent or position), with the
        ``vectors`` of its new text, in one transaction and return it as stored; NotFound
        when it is gone."""
        row = _record_row(table, record)
        with self.writing():
            if not self._existing(table, [row["id"]]):
                raise NotFound(f"no {NOUNS[table]} with id {row['id']!r}")
            self._put_vectors(vectors)
            values = {k: v for k, v in _encode(row).items() if k != "id"}
            sets = ", ".join(f'"{k}" = :{k}' for k in values)
            self.db.execute(f'update "{table}" set {sets} where id = :id', {**values, "id": row["id"]})
            if table == "needs":
                self._settle_confidential()
            self._bump_version()
        return self.get(table, row["id"])

    def delete_record(self, table: str, record_id: str) -> None:
        """Delete one need, practice or offering in one transaction. Refused (Conflict) while
        matches refer to it: they are its history (an organisation's whole data goes with the
        data-rights deletion instead); an offering can be set inactive meanwhile."""
        if table not in PARENTS:
            raise ValueError(f"delete_record deletes needs, practices or offerings, not {table}")
        where = {"needs": "need_id = :id", "practices": "kind = 'peer' and item_id = :id",
                 "offerings": "kind = 'partner' and item_id = :id"}[table]
        with self.writing():
            if not self._existing(table, [record_id]):
                raise NotFound(f"no {NOUNS[table]} with id {record_id!r}")
            used = self.db.value(f"select count(*) from matches where {where}",
                                 {"id": record_id})
            if used:
                raise Conflict(f"{NOUNS[table]} {record_id!r} has {used} match(es) and cannot be "
                               "deleted on its own" + (
                                   "; set it inactive instead" if table == "offerings" else ""))
            self.db.execute(f'delete from "{table}" where id = :id', {"id": record_id})
            self._bump_version()

    # ------------------------------------------------------------------ lists
    def list_records(self, table: str, query: ProfileQuery) -> tuple[list[dict], int]:
        """One page of the records of ``table`` that ``query`` selects, and how many it selects
        in all. See :class:`ProfileQuery` for what each filter means per table."""
        if table not in SORTABLE:
            raise ValueError(f"unknown table {table!r}")
        column = query.sort.removeprefix("-")
        if query.sort == RELEVANCE and not search_words(query.q or ""):
            query = replace(query, sort="id")  # no words to rank by
            column = "id"
        if query.sort != RELEVANCE and column not in SORTABLE[table]:
            raise InvalidInput(f"cannot sort by {query.sort!r} (expected one of: "
                               f"{', '.join(SORTABLE[table])}, each may start with '-')",
                               field="sort")
        source, where, params = _filters(self.db, table, query)
        sql = f"from {source} where {' and '.join(where) or '1 = 1'}"
        total = self.db.value(f"select count(*) {sql}", params)
        if query.sort == RELEVANCE:  # the best match first (the search's own parameter)
            order = (f"{dialect.search_rank(self.db.postgresql, table, 't', SEARCHED[table])}"
                     f", {dialect.text_order(self.db, 't.id')}")
        else:
            # As SQLite sorts: nulls first (last when descending), text in binary order.
            key = f't."{column}"'
            if column not in _NUMERIC:
                key = dialect.text_order(self.db, key)
            direction = "desc nulls last" if query.sort.startswith("-") else "nulls first"
            order = f"{key} {direction}, {dialect.text_order(self.db, 't.id')}"
        rows = self.db.rows(f"select t.* {sql} order by {order} limit :limit offset :offset",
                            {**params, "limit": query.limit, "offset": query.offset})
        return [_decode(row) for row in rows], total


@dataclass
class ProfileQuery:
    """Which records of one table to list; every filter is optional and they all must hold.

    - ``region``, ``country``: associations in it; needs and practices of such associations;
      offerings available there (their list is empty, meaning any, or names it); partners
      with such an offering.
    - ``category``: needs and practices with that given category; offerings in it; partners
      with an offering in it. Not for associations.
    - ``commodity``: associations working it, and their needs and practices; offerings open to
      it (empty list or naming it); partners with such an offering.
    - ``language``: the record's own languages (associations, partners, offerings); the
      association's languages for needs and practices.
    - ``q``: words of the names, titles, descriptions or texts, each at the start of a word
      (``merc`` finds "mercury"), in any case and with or without accents ("credito" finds
      "crédito"); all must occur. A ``q`` with no letter or digit selects nothing.
    - ``scope``: for needs, whose needs the caller may read (:func:`matcher.policy.need_scope`).
    - ``sort``: a column of :data:`SORTABLE` (``-`` first: descending), or :data:`RELEVANCE`
      with ``q``: the best matches first (ties by id).
    """

    region: str | None = None
    country: str | None = None
    category: str | None = None
    commodity: str | None = None
    language: str | None = None
    q: str | None = None
    association_id: str | None = None
    partner_id: str | None = None
    active: bool | None = None
    scope: Scope | None = None
    sort: str = "id"
    limit: int = 50
    offset: int = 0


def search_words(text: str) -> list[str]:
    """The words of what a user typed (letters and digits), each searched as a prefix."""
    return _WORD.findall(unicodedata.normalize("NFC", text))


def search_terms(text: str) -> str | None:
    """The FTS5 query of what a user typed: each word a quoted prefix term, all required, so
    no operator, column name or quote typed is ever read as query syntax; None when ``text``
    has no word."""
    words = search_words(text)
    return dialect.fts5_query(words) if words else None


def search_clause(postgresql: bool, table: str, alias: str, text: str
                  ) -> tuple[str, dict[str, str]]:
    """The condition that row ``alias`` of ``table`` matches the search ``text`` (none when
    it has no word), and its named parameter."""
    words = search_words(text)
    if not words:
        return "1 = 0", {}
    columns = ("text",) if table == "lessons" else migrations.SEARCH_COLUMNS[table]
    return dialect.search_condition(postgresql, table, alias, columns, words)


def _filters(db: Sql, table: str, q: ProfileQuery) -> tuple[str, list[str], dict[str, Any]]:
    """The FROM clause, the WHERE conditions and their named parameters of a list query."""
    where: list[str] = []
    params: dict[str, Any] = {}

    def add(clause: str, **values: Any) -> None:
        where.append(clause)
        params.update(values)

    def has(column: str, param: str) -> str:
        """The JSON list of ``column`` names the value of ``param``."""
        return dialect.json_list_has(db, column, param)

    def open_to(column: str, param: str) -> str:
        """An offering's list that is empty (any) or names the value of ``param``."""
        return f"({dialect.json_length(db, column)} = 0 or {has(column, param)})"

    def add_given(*conditions: tuple[str, str]) -> None:
        """Each condition whose filter (a field of ``q``, its parameter's name) is given."""
        for clause, name in conditions:
            if getattr(q, name) is not None:
                add(clause, **{name: getattr(q, name)})

    source = f'"{table}" t'
    if table in ("needs", "practices"):
        source += " join associations a on a.id = t.association_id"
        add_given(("a.region = :region", "region"), ("a.country = :country", "country"),
                  ("t.category = :category", "category"),
                  (has("a.commodities", "commodity"), "commodity"),
                  (has("a.languages", "language"), "language"),
                  ("t.association_id = :association_id", "association_id"))
    elif table == "associations":
        if q.category is not None:
            raise ValueError("associations are not filtered by category")
        add_given(("t.region = :region", "region"), ("t.country = :country", "country"),
                  (has("t.commodities", "commodity"), "commodity"),
                  (has("t.languages", "language"), "language"))
    else:
        alias = "t" if table == "offerings" else "o"
        offer = [(clause, name) for clause, name in (
            (open_to(f"{alias}.regions", "region"), "region"),
            (open_to(f"{alias}.countries", "country"), "country"),
            (f"{alias}.category = :category", "category"),
            (open_to(f"{alias}.commodities", "commodity"), "commodity"),
        ) if getattr(q, name) is not None]
        if table == "offerings":
            add_given(*offer, ("t.partner_id = :partner_id", "partner_id"))
            if q.active is not None:
                add("t.active = :active", active=int(q.active))
        elif offer:
            add("exists (select 1 from offerings o where o.partner_id = t.id and "
                + " and ".join(clause for clause, _ in offer) + ")",
                **{name: getattr(q, name) for _, name in offer})
        add_given((has("t.languages", "language"), "language"))
    if table == "needs" and q.scope is not None and not q.scope.everything:
        if q.scope.nothing:
            where.append("1 = 0")
        else:
            in_regions, regions = "1 = 0", {}
            if q.scope.regions:
                marks, regions = in_list("scope_region", sorted(q.scope.regions))
                in_regions = f"a.region in ({marks})"
            add(f"({in_regions} or t.association_id = :scope_association)", **regions,
                scope_association=q.scope.association_id)
    if q.q:
        clause, named = search_clause(db.postgresql, table, "t", q.q)
        add(clause, **named)
    return source, where, params


def exported_flag(need: dict) -> bool | None:
    """A need's ``sensitive`` in exports: the flag as given, but true for a confidential need
    that the rules alone (no flag, a sensitive topic given) would not make so again wherever it
    is imported (inferred, or flagged otherwise after it became confidential)."""
    by_rule = need["sensitive"] is None and need["category"] in SENSITIVE_CATEGORIES
    return True if need.get("confidential") and not by_rule else need["sensitive"]


def _record_row(table: str, record: BaseModel) -> dict:
    """The row of one exchange record, without its children, parent key or position."""
    if table == "associations":
        return record.model_dump(mode="json", exclude={"needs", "practices"})
    if table == "partners":
        return record.model_dump(mode="json", exclude={"offerings"})
    if table == "offerings":
        row = record.model_dump(mode="json", exclude={"eligibility"})
        row.update(record.eligibility.model_dump())
        return row
    return record.model_dump(mode="json")


def offering_record(row: dict) -> Offering:
    """The offering of a stored row, in the exchange format (the one mapping back)."""
    return Offering(**{name: row[name] for name in Offering.model_fields
                       if name != "eligibility"},
                    eligibility={name: row[name] for name in Eligibility.model_fields})


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
