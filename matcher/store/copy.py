"""Copying one store's rows into another, empty one (SQLite or PostgreSQL either side): every
table of the schema but the migrations' tracker, the corpus change log and the full-text
indexes' own tables (the target's indexes fill themselves), parents before children, ids kept, in one transaction on
the target read from one snapshot of the source.

Rows keep their order: by ``id`` in a table keyed by an integer id, else by ``rowid`` (the
order they were written in; PostgreSQL's tables carry a ``rowid`` column for it). On
PostgreSQL the identity sequences are moved past the copied ids, so that the next row gets a
new one. The target's ``meta`` keeps the source's counters but gets corpus tokens of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from matcher.errors import MatcherError
from matcher.store.base import BaseStore
from matcher.store.sql import Sql

BATCH = 1000
META = "meta"
TRACKERS = {"_sqlite_migrations", "alembic_version"}  # the migrations' own bookkeeping
# Not copied, and emptied after the copy: the log of which records were written since a data
# token (m025) means nothing under the copy's own tokens; its engines build whole first.
CHANGE_LOG = "corpus_changes"
FRESH_TOKENS = ("data_token", "vectors_token")  # renewed: the copy is a database of its own


class CopyRefused(MatcherError):
    """The copy cannot be made (the target holds data, the schemas differ, a count does not
    match); its message is one line."""


@dataclass
class CopyReport:
    """Rows per table: in the source, and in the target after the copy."""

    source: dict[str, int] = field(default_factory=dict)
    target: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in all)


def copy_store(source: BaseStore, target: BaseStore, progress: Progress | None = None
               ) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` (both migrated to the newest
    schema); all or nothing. Raises :class:`CopyRefused` when the target holds data or a
    table's count differs after the copy (the target is then left as it was)."""
    report = CopyReport()
    with source.snapshot() as src:
        tables = tables_in_order(src)
        for table in tables:
            report.source[table] = _count(src, table)
        total = sum(report.source.values())
        with target.writing() as dst:
            missing = [t for t in tables if t not in set(_tables(dst))]
            if missing:
                raise CopyRefused(f"the target has no table {missing[0]}: is it older than "
                                  "the source?")
            for table in tables:
                if table != META and _count(dst, table):
                    raise CopyRefused(f"the target already holds data (table {table}); "
                                      "copy into an empty database only")
            done = 0
            for table in tables:
                try:
                    done = _copy_table(src, dst, table, done, total, progress)
                except (sa.exc.DBAPIError, ValueError) as exc:  # the row is not shown
                    cause = type(getattr(exc, "orig", None) or exc).__name__
                    raise CopyRefused(f"table {table}: the target refused a row ({cause}); "
                                      "nothing kept") from exc
            _renew_tokens(dst)
            dst.execute(f'delete from "{CHANGE_LOG}"')  # what the triggers logged meanwhile
            if dst.postgresql:
                _reset_sequences(dst, tables)
            for table in tables:
                report.target[table] = _count(dst, table)
            wrong = [t for t in tables if t != META and report.target[t] != report.source[t]]
            if wrong:
                t = wrong[0]
                raise CopyRefused(f"table {t}: {report.source[t]} rows in the source, "
                                  f"{report.target[t]} copied; nothing kept")
            kept = {r["key"] for r in dst.rows(f'select "key" from "{META}"')}
            lost = {r["key"] for r in src.rows(f'select "key" from "{META}"')} - kept
            if lost:
                raise CopyRefused(f"meta: {len(lost)} keys not copied; nothing kept")
    return report


def tables_in_order(db: Sql) -> list[str]:
    """The tables to copy, each after the tables it references."""
    names = set(_tables(db))
    inspector = sa.inspect(db.connection)
    parents = {name: {fk["referred_table"] for fk in inspector.get_foreign_keys(name)
                      if fk["referred_table"] in names and fk["referred_table"] != name}
               for name in names}
    ordered: list[str] = []
    last = [META] if META in parents else []  # after the triggers of the others wrote to it
    for name in last:
        del parents[name]
    while parents:
        ready = sorted(n for n, p in parents.items() if not p - set(ordered))
        if not ready:  # a cycle: the rest in name order (foreign keys then tell)
            ready = sorted(parents)
        for name in ready:
            ordered.append(name)
            del parents[name]
    return ordered + last


def _tables(db: Sql) -> list[str]:
    """The tables of the schema but the migrations' trackers and the full-text indexes."""
    names = sa.inspect(db.connection).get_table_names()
    skipped = {*TRACKERS, CHANGE_LOG}
    if db.postgresql:  # an index kept in a table of its own is named as SQLite's are
        virtual = [f"{n}_fts" for n in names if f"{n}_fts" in names]
    else:
        virtual = [r["name"] for r in db.rows(
            "select name from sqlite_master where type = 'table' and sql like 'CREATE VIRTUAL%'")]
    skipped |= set(virtual) | {n for n in names for v in virtual if n.startswith(v + "_")}
    return [n for n in names if n not in skipped and not n.startswith("sqlite_")]


def _count(db: Sql, table: str) -> int:
    return int(db.value(f'select count(*) from "{table}"'))


def _columns(db: Sql, table: str) -> dict[str, sa.types.TypeEngine]:
    """The columns a copy writes (not PostgreSQL's ``rowid``: the order of insertion makes
    it), with their types."""
    return {c["name"]: c["type"] for c in sa.inspect(db.connection).get_columns(table)
            if c["name"] != "rowid"}


def _order(db: Sql, table: str, columns: dict[str, sa.types.TypeEngine]) -> str:
    kind = columns.get("id")
    if kind is not None and _python_type(kind) is int:
        return '"id"'
    return "rowid"


def _copy_table(src: Sql, dst: Sql, table: str, done: int, total: int,
                progress: Progress | None) -> int:
    theirs = _columns(dst, table)
    columns = [c for c in _columns(src, table) if c in theirs]
    names = ", ".join(map(_q, columns))
    order = _order(src, table, _columns(src, table))
    overriding = " overriding system value" if dst.postgresql and _always_identity(
        dst, table, columns) else ""
    insert = (f'insert into "{table}" ({names}){overriding} values '
              f'({", ".join(":" + _param(c) for c in columns)})')
    if table == META:  # the target's migrations wrote meta rows of their own: the source's win
        key = _primary_key(dst, table)
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in key)
        insert += f' on conflict ({", ".join(_q(c) for c in key)}) ' + (
            f"do update set {updates}" if updates else "do nothing")
    convert = _converters(theirs, columns) if dst.postgresql else {}
    result = src.execute(f'select {names} from "{table}" order by {order}')
    if progress:
        progress(table, done, total)
    while True:
        batch = result.fetchmany(BATCH)
        if not batch:
            break
        dst.executemany(insert, [
            {_param(c): convert[c](v) if c in convert and v is not None else v
             for c, v in zip(columns, row)} for row in batch])
        done += len(batch)
        if progress:
            progress(table, done, total)
    return done


def _q(name: str) -> str:
    return f'"{name}"'


def _param(column: str) -> str:
    return "c_" + "".join(ch if ch.isalnum() else "_" for ch in column)


def _primary_key(db: Sql, table: str) -> list[str]:
    return sa.inspect(db.connection).get_pk_constraint(table)["constrained_columns"]


def _python_type(kind: sa.types.TypeEngine) -> type | None:
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _converters(theirs: dict[str, sa.types.TypeEngine], columns: list[str]
                ) -> dict[str, Callable]:
    """For PostgreSQL's typed columns: a value SQLite kept loosely (a number in a text column,
    digits in an integer one) in the column's own type."""
    out: dict[str, Callable] = {}
    for column in columns:
        wanted = _python_type(theirs[column])
        if wanted is str:
            out[column] = lambda v: v if isinstance(v, str) else (
                v.decode() if isinstance(v, bytes) else str(v))
        elif wanted is int:
            out[column] = lambda v: int(v) if isinstance(v, str | bool) else v
        elif wanted is float:
            out[column] = lambda v: float(v) if isinstance(v, str | int) else v
    return out


def _always_identity(db: Sql, table: str, columns: list[str]) -> bool:
    """Whether one of ``columns`` is an identity that refuses given values by default."""
    found = db.value(
        "select count(*) from information_schema.columns where table_schema = "
        "current_schema() and table_name = :table and identity_generation = 'ALWAYS' "
        "and column_name = any(:columns)",
        {"table": table, "columns": list(columns)}) if columns else 0
    return bool(found)


def _reset_sequences(db: Sql, tables: list[str]) -> None:
    """Move each copied table's identity sequences past its greatest value."""
    for table in tables:
        for column in _columns(db, table):
            sequence = db.value("select pg_get_serial_sequence(:table, :column)",
                                {"table": f'"{table}"', "column": column})
            if sequence is not None:
                db.execute(f'select setval(:sequence, max("{column}")) from "{table}" '
                           f'having max("{column}") is not null', {"sequence": sequence})


def _renew_tokens(db: Sql) -> None:
    db.upsert_all(META, [{"key": key, "value": secrets.token_hex(12)} for key in FRESH_TOKENS],
                  "key")
