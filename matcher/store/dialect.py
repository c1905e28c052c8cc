"""What SQLite and PostgreSQL word differently, in one place: how a write transaction begins
(one writer at a time on either), and how a read sees one state."""

from __future__ import annotations

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
