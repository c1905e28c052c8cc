"""What SQLite and PostgreSQL word differently, in one place: how a write transaction begins
(one writer at a time on either), how a read sees one state, JSON arrays in text
columns and the binary order of text."""

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


def json_contains(db: Sql, column: str, param: str) -> str:
    """Whether the JSON array of text ``column`` holds the value of parameter ``param``."""
    if db.postgresql:
        return (f"exists (select 1 from json_array_elements_text(cast({column} as json)) e "
                f"where e = :{param})")
    return f"exists (select 1 from json_each({column}) where value = :{param})"


def json_length(db: Sql, column: str) -> str:
    """The length of the JSON array of text ``column`` (null when it is null)."""
    if db.postgresql:
        return f"json_array_length(cast({column} as json))"
    return f"json_array_length({column})"


def text_order(db: Sql, expression: str) -> str:
    """A text ``expression`` to sort by in binary (code point) order, as SQLite sorts text,
    whatever collation the PostgreSQL database has."""
    return f'{expression} collate "C"' if db.postgresql else expression
