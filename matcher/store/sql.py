"""The connection the store runs its SQL on: SQLAlchemy Core over SQLite or PostgreSQL.

A store's target is a file path (SQLite, the embedded default) or a ``postgresql://`` URL.
Statements are text with named parameters (``:name``), written in the SQL both databases
speak; where they differ (full-text search, triggers, the start of a write transaction) the
dialect module (:mod:`matcher.store.dialect`) words it. Transactions are begun explicitly
(``BEGIN``), as the store decides when and how: the connection itself never begins one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.pool import NullPool

from matcher.db_target import is_url
from matcher.errors import Unavailable

SQLITE, POSTGRESQL = "sqlite", "postgresql"
_SQLITE_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

# A statement's text parsed once (its bind parameters found), not on every execution: a
# suggestion runs about ten small statements, and parsing each again cost a third of their
# time. The store's statements are few; those with an ``in (...)`` list of any length pass
# through the bounded cache without crowding it for long.
_statement = lru_cache(maxsize=2048)(sa.text)


def database_url(target: str | Path) -> str:
    """The SQLAlchemy URL of a store's target (psycopg 3 for PostgreSQL)."""
    text = str(target)
    if is_url(text):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return f"sqlite:///{Path(text).resolve()}"


# libpq's TCP keepalives: a firewall or NAT that drops connections left idle (many cloud
# networks do after a few minutes) sees ours alive, and a peer gone for good is noticed
# within two minutes instead of the system's two hours.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10,
              "keepalives_count": 6}


def create_engine(target: str | Path) -> sa.Engine:
    """An engine whose connections never begin transactions by themselves (AUTOCOMMIT: the
    store sends ``BEGIN``), one per thread that asks (no pool: each thread keeps its own)."""
    url = database_url(target)
    args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        args = {"check_same_thread": False, "timeout": 30}
    else:  # each default the URL does not set itself (psycopg lets these override the URL)
        given = {name.lower() for name, _ in parse_qsl(urlsplit(url).query)}
        args = {name: value for name, value in KEEPALIVES.items() if name not in given}
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=args,
                              isolation_level="AUTOCOMMIT")
    sa.event.listen(engine, "handle_error", _out_of_reach)
    if engine.dialect.name == SQLITE:
        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
    return engine


def _out_of_reach(context: sa.engine.ExceptionContext) -> None:
    """A lost connection (the server restarted or went away) or one that cannot be opened
    raises :class:`Unavailable`, which the API answers with 503. SQLAlchemy still marks the
    connection invalid, and the store opens a new one at the thread's next statement. So
    does a SQLite file another process held locked past the busy timeout (a long import)."""
    if context.is_disconnect or context.connection is None:
        raise Unavailable("the database cannot be reached just now; try again in a few "
                          "seconds")
    if getattr(context.original_exception, "sqlite_errorcode", None) in _SQLITE_BUSY:
        raise Unavailable("the database is busy with another process's write; try again in "
                          "a few seconds")


class Sql:
    """One connection's statements: ``execute(sql, {"name": value})`` and row helpers.

    ``depth`` counts the transactions the store opened on it (savepoints inside one).
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self.dialect: str = connection.dialect.name
        self.depth = 0

    @property
    def postgresql(self) -> bool:
        return self.dialect == POSTGRESQL

    @property
    def driver_connection(self) -> Any:
        """The driver's own connection (sqlite3's or psycopg's), for what only it offers."""
        return self.connection.connection.driver_connection

    @property
    def in_transaction(self) -> bool:
        return self.depth > 0

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> CursorResult:
        """Run one statement, its ``:name`` parameters given by the mapping ``params``
        (positional parameters are refused on both dialects)."""
        if params is not None and not isinstance(params, Mapping):
            raise TypeError("statement parameters are named (:name) and given as a mapping")
        return self.connection.execute(_statement(sql), dict(params or {}))

    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = [dict(r) for r in rows]
        if rows:
            self.connection.execute(_statement(sql), rows)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        return [dict(r) for r in self.execute(sql, params).mappings()]

    def row(self, sql: str, params: Mapping[str, Any] | None = None) -> dict | None:
        found = self.execute(sql, params).mappings().first()
        return dict(found) if found is not None else None

    def value(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.execute(sql, params).scalar()

    def table_names(self) -> list[str]:
        return sa.inspect(self.connection).get_table_names()

    def insert(self, table: str, row: Mapping[str, Any], *, returning: str | None = "id") -> Any:
        """Insert one row; the value of its ``returning`` column (its new id) is returned."""
        columns = list(row)
        sql = (f'insert into "{table}" ({", ".join(_quoted(c) for c in columns)}) '
               f'values ({", ".join(":" + c for c in columns)})')
        if returning:
            return self.execute(sql + f' returning "{returning}"', row).scalar_one()
        self.execute(sql, row)
        return None

    def upsert_all(self, table: str, rows: Sequence[Mapping[str, Any]],
                   pk: str | Sequence[str] = "id", *, replace: bool = True) -> None:
        """Insert ``rows``, updating (or, with ``replace=False``, keeping) those whose
        ``pk`` exists: ``insert ... on conflict`` in either dialect."""
        if not rows:
            return
        keys = [pk] if isinstance(pk, str) else list(pk)
        columns = list(dict.fromkeys(c for r in rows for c in r))
        clause = sa.table(table, *(sa.column(c) for c in columns))
        insert = (postgresql.insert if self.postgresql else sqlite.insert)(clause)
        others = [c for c in columns if c not in keys]
        if replace and others:
            stmt = insert.on_conflict_do_update(
                index_elements=keys, set_={c: insert.excluded[c] for c in others})
        else:
            stmt = insert.on_conflict_do_nothing(index_elements=keys)
        self.connection.execute(stmt, [{c: r.get(c) for c in columns} for r in rows])

    # ------------------------------------------------------------------ transactions
    def begin(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.connection.exec_driver_sql(statement)
        self.depth += 1

    def commit(self) -> None:
        self.depth -= 1
        self.connection.exec_driver_sql("COMMIT")

    def rollback(self) -> None:
        self.depth -= 1
        if not self.connection.invalidated:  # a lost connection took its transaction along
            self.connection.exec_driver_sql("ROLLBACK")

    @contextmanager
    def savepoint(self) -> Iterator[Sql]:
        """A nested transaction inside the open one: undone alone on error."""
        name = f"sp{self.depth}"
        self.connection.exec_driver_sql(f"SAVEPOINT {name}")
        self.depth += 1
        try:
            yield self
        except BaseException:
            if not self.connection.invalidated:
                self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
                self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self.depth -= 1
        self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    def close(self) -> None:
        self.connection.close()


def _quoted(name: str) -> str:
    return f'"{name}"'


def in_list(name: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
    """The named parameters of an ``in (...)`` list (``:name0, :name1, ...``) and their
    values; ``values`` must not be empty (``in ()`` is no SQL on PostgreSQL)."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    if not params:
        raise ValueError(f"an empty list of {name} values")
    return ", ".join(f":{key}" for key in params), params
