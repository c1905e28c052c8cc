"""What SQLite and PostgreSQL word differently, in one place: how a write transaction begins
(one writer at a time on either), how a read sees one state, substring and JSON-list tests,
SQLite's secure delete and WAL checkpoint, what the migrations add on PostgreSQL (a
``rowid``, triggers in plpgsql), and full-text search (SQLite's FTS5 tables, PostgreSQL's GIN
indexes over folded words) with the condition that queries it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

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


def refresh_statistics(db: Sql, table: str) -> None:
    """PostgreSQL: gather ``table``'s statistics now (after a bulk write), rather than when
    autovacuum comes by: until then the planner guesses, and reads the whole table for each
    lookup. SQLite: nothing (its planner needs none for primary-key lookups)."""
    if db.postgresql:
        db.execute(f'ANALYZE "{table}"')


def checkpoint(db: Sql) -> None:
    """SQLite: copy the WAL into the database file and truncate it (best effort: a reader
    still open keeps part of it), so that deleted content leaves the WAL file too.
    PostgreSQL: nothing (its WAL is the server's, recycled by the server itself)."""
    if not db.postgresql:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# ---------------------------------------------------------------------- schema
# The lock a PostgreSQL server holds while it migrates: servers starting at once against one
# database take turns, and the second finds nothing left to apply.
MIGRATION_LOCK = 0x6465_6C6D  # "delm"


def row_order_columns(postgresql: bool) -> list[sa.Column]:
    """The columns every new table gets besides its own: on PostgreSQL a ``rowid`` numbered
    in insertion order (SQLite has one implicitly), which the store orders text-keyed rows
    by."""
    if not postgresql:
        return []
    return [sa.Column("rowid", sa.BigInteger, sa.Identity(always=False), nullable=False)]


def search_functions(postgresql: bool, extension_schema: str, schema: str) -> list[str]:
    """What the search indexes stand on. PostgreSQL: ``matcher_fold`` (lower case, accents
    removed by the trusted ``unaccent`` extension, wrapped as IMMUTABLE so it can be
    indexed), ``matcher_search_vector`` (the folded words of its texts, split as SQLite's
    unicode61 tokenizer splits them: runs of letters and digits) and ``matcher_search_query``
    (every folded word of a search a prefix, all required). SQLite: nothing (FTS5 is built
    in). ``extension_schema`` is the unaccent extension's, ``schema`` the one these
    functions are created in: each call is qualified, so an index stays valid whatever the
    search_path of whoever writes the table."""
    if not postgresql:
        return []
    extension, own = f'"{extension_schema}".', f'"{schema}".'
    return [
        "CREATE OR REPLACE FUNCTION matcher_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS "
        f"$$ SELECT lower({extension}unaccent('{extension}unaccent'::regdictionary, value)) $$",
        "CREATE OR REPLACE FUNCTION matcher_search_words(value text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        "$$ SELECT coalesce(array_agg(DISTINCT word), '{}') FROM regexp_split_to_table("
        f"{own}matcher_fold(coalesce(value, '')), '[^[:alnum:]]+') AS word "
        "WHERE word <> '' AND octet_length(word) < 2000 $$",
        "CREATE OR REPLACE FUNCTION matcher_search_vector(VARIADIC texts text[]) "
        "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        f"$$ SELECT array_to_tsvector({own}matcher_search_words("
        "array_to_string(texts, ' '))) $$",
        "CREATE OR REPLACE FUNCTION matcher_search_query(typed text) RETURNS tsquery "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        "$$ SELECT cast(coalesce(string_agg(quote_literal(word) || ':*', ' & '), '') "
        f"AS tsquery) FROM unnest({own}matcher_search_words(typed)) AS word $$",
    ]


def create_search(postgresql: bool, table: str, columns: tuple[str, ...],
                  tokenizer: str) -> list[str]:
    """The statements that index ``columns`` of ``table`` for :func:`search_condition`, and
    fill the index from the rows there are. Safe to run again (replaces the index).

    SQLite: an FTS5 table ``<table>_fts`` over the table's rows (``content=``) with
    ``tokenizer``, kept up to date by triggers ``<table>_ai``, ``_ad``, ``_au``. PostgreSQL:
    a GIN index ``<table>_search`` over ``matcher_search_vector(columns...)``."""
    names = ", ".join(f'"{c}"' for c in columns)
    if postgresql:
        return [f'DROP INDEX IF EXISTS "{table}_search"',
                f'CREATE INDEX "{table}_search" ON "{table}" USING gin '
                f"(matcher_search_vector({names}))"]
    fts = f"{table}_fts"
    new = ", ".join(f'new."{c}"' for c in columns)
    old = ", ".join(f'old."{c}"' for c in columns)
    add = f'INSERT INTO "{fts}" (rowid, {names}) VALUES (new.rowid, {new});'
    remove = (f'INSERT INTO "{fts}" ("{fts}", rowid, {names}) '
              f"VALUES('delete', old.rowid, {old});")
    return [
        *(f'DROP TRIGGER IF EXISTS "{table}_{t}"' for t in ("ai", "ad", "au")),
        f'DROP TABLE IF EXISTS "{fts}"',
        f'CREATE VIRTUAL TABLE "{fts}" USING FTS5 (\n    {names},\n'
        f"    tokenize='{tokenizer}',\n    content=\"{table}\"\n)",
        f'INSERT INTO "{fts}" (rowid, {names}) SELECT rowid, {names} FROM "{table}";',
        f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{table}" BEGIN\n  {add}\nEND',
        f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{table}" BEGIN\n  {remove}\nEND',
        f'CREATE TRIGGER "{table}_au" AFTER UPDATE ON "{table}" BEGIN\n  {remove}\n  {add}\n'
        "END",
    ]


def row_trigger(postgresql: bool, name: str, event: str, table: str, body: str,
                when: str | None = None) -> list[str]:
    """An AFTER ``event`` trigger running ``body`` (statements ending in ``;``) for each row
    of ``table`` for which ``when`` holds (``old.x``/``new.x``; compare two values with
    ``is distinct from``). PostgreSQL: a plpgsql function ``<name>_row`` and its trigger."""
    if postgresql:
        condition = f" WHEN ({when})" if when else ""
        return [
            f"CREATE OR REPLACE FUNCTION {name}_row() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} "
            f"EXECUTE FUNCTION {name}_row()",
        ]
    # SQLite's own spelling (as the triggers of older databases read)
    condition = f" when {when.replace(' is distinct from ', ' is not ')}" if when else ""
    return [f"create trigger {name} after {event} on {table}{condition} begin {body} end"]


# ---------------------------------------------------------------------- search
def fts5_query(words: list[str]) -> str:
    """The FTS5 query of a search's words: each a quoted prefix term, all required, so no
    operator, column name or quote typed is ever read as query syntax."""
    return " ".join(f'"{word}"*' for word in words)


def search_condition(postgresql: bool, table: str, alias: str, columns: tuple[str, ...],
                     words: list[str], name: str = "search") -> tuple[str, dict[str, str]]:
    """The condition "row ``alias`` of ``table`` has every one of ``words`` at the start of
    a word of its ``columns``", case and accents folded, and its parameter ``:name``
    (:func:`create_search` made the index it reads)."""
    if postgresql:
        names = ", ".join(f'{alias}."{c}"' for c in columns)
        return (f"matcher_search_vector({names}) @@ matcher_search_query(:{name})",
                {name: " ".join(words)})
    return (f'{alias}.rowid in (select rowid from "{table}_fts" where "{table}_fts" '
            f"match :{name})", {name: fts5_query(words)})


def search_rank(postgresql: bool, table: str, alias: str, columns: tuple[str, ...],
                name: str = "search") -> str:
    """How well row ``alias`` matches the search ``:name`` of :func:`search_condition`, the
    best first in ascending order. SQLite: FTS5's BM25 of the row (negative, lower is
    better). PostgreSQL: ``ts_rank`` negated, over the folded words with their positions
    (the index's vector keeps each word once, so it cannot count them), divided by the
    logarithm of the text's length as BM25 weighs it."""
    if postgresql:
        names = ", ".join(f'{alias}."{c}"' for c in columns)
        return (f"-ts_rank(to_tsvector('simple', matcher_fold(concat_ws(' ', {names}))), "
                f"matcher_search_query(:{name}), 1)")
    fts = f'"{table}_fts"'
    return (f"(select bm25({fts}) from {fts} where {fts} match :{name} and "
            f"{fts}.rowid = {alias}.rowid)")
