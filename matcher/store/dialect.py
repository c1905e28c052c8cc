"""What SQLite and PostgreSQL word differently, in one place: how a write transaction begins
(one writer at a time on either), how a read sees one state, substring and JSON-list tests,
and SQLite's secure delete and WAL checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from matcher.store.sql import Sql

# The advisory lock every write transaction on PostgreSQL takes first: writers of every
# server take turns, as SQLite's writers do (BEGIN IMMEDIATE), so that each rule the store
# checks before it writes (a match's version, an offering's capacity, the failed-login
# throttle) holds across servers exactly as it does in one process.
WRITER_LOCK = 0x6465_6C76  # "delv"


def begin_write(db: Sql) -> list[str]:
    if db.postgresql:
        return ["BEGIN ISOLATION LEVEL READ COMMITTED",
                f"SELECT pg_advisory_xact_lock({WRITER_LOCK})"]
    return ["BEGIN IMMEDIATE"]


def json_length(db: Sql, column: str) -> str:
    """The length of ``column``'s JSON list (null when the column is null)."""
    if db.postgresql:
        return f"json_array_length(cast({column} as json))"
    return f"json_array_length({column})"


def text_order(db: Sql, expression: str) -> str:
    """A text ``expression`` to sort by in binary (code point) order, as SQLite sorts text,
    whatever collation the PostgreSQL database has."""
    return f'{expression} collate "C"' if db.postgresql else expression


def begin_read(db: Sql) -> list[str]:
    if db.postgresql:
        return ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"]
    return ["BEGIN"]


def text_list(db: Sql, expr: str, order: str) -> str:
    """An aggregate of ``expr``'s values (text) joined by commas, in the order of ``order``
    on PostgreSQL; SQLite (3.40: no ORDER BY inside an aggregate) joins them in the order it
    reads the rows, so callers must not rely on the order (read the list as a set)."""
    if db.postgresql:
        return f"string_agg({expr}, ',' order by {order})"
    return f"group_concat({expr}, ',')"


def contains(db: Sql, text: str, needle: str) -> str:
    """The condition that ``text`` (an expression) holds the parameter ``needle`` (its name)
    as a substring: case-sensitive, no wildcards (instr on SQLite, strpos on PostgreSQL)."""
    function = "strpos" if db.postgresql else "instr"
    return f"{function}({text}, :{needle}) > 0"


def json_list_has(db: Sql, column: str, value: str) -> str:
    """The condition that ``column`` (a JSON list of texts) holds the parameter ``value`` (its
    name); a null list holds nothing."""
    if db.postgresql:
        return (f"exists (select 1 from json_array_elements_text(cast({column} as json)) "
                f"as e(value) where e.value = :{value})")
    return f"exists (select 1 from json_each({column}) where value = :{value})"


@contextmanager
def secure_delete(db: Sql) -> Iterator[None]:
    """While the block runs, SQLite overwrites what is deleted with zeros (then the previous
    setting returns). PostgreSQL has no such setting (a deleted row's bytes stay in the table's
    files until its space is reused): there the block runs as it is."""
    if db.postgresql:
        yield
        return
    previous = int(db.value("PRAGMA secure_delete"))
    db.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        db.execute(f"PRAGMA secure_delete = {previous}")


def checkpoint(db: Sql) -> None:
    """SQLite: copy the WAL into the database file and truncate it (best effort: a reader
    still open keeps part of it), so that deleted content leaves the WAL file too.
    PostgreSQL: nothing (its WAL is the server's, recycled by the server itself)."""
    if not db.postgresql:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
