"""The connection, transactions and row helpers every part of the store builds on."""

from __future__ import annotations

import json
import secrets
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args, get_origin

import sqlalchemy as sa
from pydantic import BaseModel

from matcher import migrations as schema
from matcher.exchange import Association, Eligibility, Need, Offering, Partner, Practice
from matcher.store import dialect
from matcher.store.sql import Sql, create_engine, in_list, is_url


def _columns(test) -> set[str]:
    """The record fields stored as columns whose type passes ``test`` (a nested list of
    records, such as a partner's offerings, is stored in its own table; an offering's
    eligibility in columns of its own)."""
    nested = {"offerings", "needs", "practices", "eligibility"}
    return {name for record in (Association, Partner, Offering, Eligibility, Need, Practice)
            for name, info in record.model_fields.items()
            if name not in nested and test(info.annotation)}


def _is_json(annotation) -> bool:
    kinds = {get_origin(a) or a for a in (get_args(annotation) or (annotation,))}
    return get_origin(annotation) is list or any(
        isinstance(k, type) and issubclass(k, BaseModel) for k in kinds)


# Column types follow the exchange records, so a new field needs no change here.
_JSON = _columns(_is_json)
_BOOLS = _columns(lambda a: a is bool or a == bool | None) | {"confidential"}


def _encode(row: dict) -> dict:
    return {k: json.dumps(v) if k in _JSON else (int(v) if k in _BOOLS and v is not None else v)
            for k, v in row.items()}


def _decode(row: dict) -> dict:
    """A stored row as a record: JSON and flags decoded; without PostgreSQL's ``rowid`` (the
    insertion order, a column there, hidden in SQLite), which is no field of any record."""
    return {k: json.loads(v) if k in _JSON and v is not None
            else (bool(v) if k in _BOOLS and v is not None else v)
            for k, v in row.items() if k != "rowid"}


# The change log's rows kept (corpus_changes): a corpus older than that is built again whole.
CHANGES_KEPT = 50_000

# Writers of this process take turns (SQLite has one writer at a time anyway; waiting here
# rather than on its busy timeout keeps them in order).
_WRITES = threading.RLock()


class BaseStore:
    """A database of the exchange (a SQLite file or a PostgreSQL URL), migrated on open, with
    explicit write transactions.

    Each thread gets its own connection (``db``), so that a reader never sees another
    thread's uncommitted writes: it reads the last committed state while a writer works.
    A thread's connection closes when the thread ends; :meth:`close` closes them all, from
    any thread.
    """

    def __init__(self, target: str | Path, *, check_same_thread: bool = True):
        self.target = str(target)
        self.postgresql = is_url(target)
        # The file of a SQLite store (its locks and corpus cache live beside it).
        self.path = Path(target) if not self.postgresql else None
        self.engine = create_engine(target)
        _migrate(self.engine)
        self._local = threading.local()
        self._connections: weakref.WeakSet[Sql] = weakref.WeakSet()
        self._connections_lock = threading.Lock()

    @property
    def db(self) -> Sql:
        """This thread's connection: opened on first use, closed when the thread ends or
        the store closes, whichever comes first."""
        db = getattr(self._local, "db", None)
        if db is not None and (db.connection.invalidated or db.connection.closed):
            # lost (the server went away): a new one, or Unavailable until it is back
            self._local.db = db = None
        if db is None:
            db = self._local.db = Sql(self.engine.connect())
            # The thread's local is the one strong reference: when the thread ends (a
            # server's thread pool stops the threads left idle), its connection closes too.
            # Kept open, each new thread's connection piled up until SQLite ran out of file
            # handles or PostgreSQL of connections.
            weakref.finalize(db, db.connection.close)
            with self._connections_lock:
                self._connections.add(db)
        return db

    def close(self) -> None:
        """Close every thread's connection."""
        with self._connections_lock:
            connections, self._connections = list(self._connections), weakref.WeakSet()
        for db in connections:
            db.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def writing(self) -> Iterator[Sql]:
        """One write transaction, and no other thread of this process writing meanwhile."""
        with _WRITES, self.transaction() as db:
            yield db

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """No other thread of this process writes while the block runs."""
        with _WRITES:
            yield

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        """One write transaction, one writer at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL:
        the writers' lock); rolled back whole on any error. Inside another, a savepoint."""
        db = self.db
        if db.in_transaction:
            with db.savepoint():
                yield db
            return
        db.begin(dialect.begin_write(db))
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.commit()

    @contextmanager
    def snapshot(self) -> Iterator[Sql]:
        """A read transaction: every read inside sees one committed state."""
        db = self.db
        if db.in_transaction:
            yield db
            return
        db.begin(dialect.begin_read(db))
        try:
            yield db
        finally:
            db.commit()

    def data_version(self) -> int:
        value = self.db.value("select value from meta where key = 'data_version'")
        return int(value) if value is not None else 0

    def versions(self) -> tuple[int, int]:
        """The data version and the evidence version, in one read (each request's)."""
        found = dict(self.db.execute("select key, value from meta where key in "
                                     "('data_version', 'evidence_version')").all())
        return (int(found.get("data_version") or 0),
                int(found.get("evidence_version") or 0))

    def evidence_version(self) -> int:
        """A counter raised whenever the evidence of past exchanges changes (an outcome
        recorded; see migration m021): the engine refreshes the evidence it ranks with."""
        value = self.db.value("select value from meta where key = 'evidence_version'")
        return int(value) if value is not None else 0

    def _bump_version(self) -> None:
        """A new data version, and its token at the end of the change log (the triggers of
        m025 logged the records written before it); the oldest log rows beyond
        :data:`CHANGES_KEPT` go."""
        self.db.execute(
            "insert into meta (key, value) values ('data_version', '1') on conflict (key) "
            "do update set value = cast(cast(meta.value as integer) + 1 as text)"
        )
        token = self._new_token("data_token")
        self.db.execute("insert into corpus_changes (tbl, record_id) values ('version', :token)",
                        {"token": token})
        self.db.execute("delete from corpus_changes where id <= "
                        "(select max(id) from corpus_changes) - :kept", {"kept": CHANGES_KEPT})

    def _new_token(self, key: str) -> str:
        """A fresh random value under ``key`` of meta, in the caller's transaction: unlike a
        counter, never the same twice (not even in a database restored from a copy)."""
        token = secrets.token_hex(12)
        self.db.upsert_all("meta", [{"key": key, "value": token}], "key")
        return token

    def corpus_changes(self, token: str) -> dict[str, set[str]] | None:
        """The ids of the profile records written since the data token ``token``, by table;
        None when the change log does not reach back to it (too old, made before the log,
        of another database) or when everything must be read again (an erasure)."""
        since = self.db.value("select id from corpus_changes where tbl = 'version' "
                              "and record_id = :token", {"token": token})
        if since is None:
            return None
        changes: dict[str, set[str]] = {}
        for table, record_id in self.db.execute(
                "select tbl, record_id from corpus_changes where id > :since",
                {"since": since}).all():
            if table == "all":
                return None
            if table != "version":
                changes.setdefault(table, set()).add(record_id)
        return changes

    def _forget_changes(self) -> None:
        """Empty the change log of record ids (an erasure: nothing of the erased records may
        stay behind), leaving a mark that every corpus built before it is read again whole."""
        self.db.execute("delete from corpus_changes where tbl <> 'version'")
        self.db.execute("insert into corpus_changes (tbl, record_id) values ('all', '')")

    # ------------------------------------------------------------------ row helpers
    def _existing(self, table: str, ids: list[str]) -> dict[str, dict]:
        """The stored (encoded) rows of ``table`` among ``ids``, by id."""
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 500):
            marks, params = in_list("id", ids[start:start + 500])
            for row in self.db.rows(f'select * from "{table}" where id in ({marks})', params):
                row.pop("rowid", None)  # PostgreSQL's insertion order: no field
                found[row["id"]] = row
        return found

    def _rows(self, table: str, where: str = "", params: Mapping[str, Any] | None = None,
              order: str = "rowid") -> Iterator[dict]:
        """The decoded rows of ``table`` where ``where`` holds (its ``:name`` parameters in
        the mapping ``params``), in ``order``: ``rowid`` (insertion) suits tables with a
        text or composite key, ``id`` those with an integer one."""
        sql = f'select * from "{table}"' + (f" where {where}" if where else "") + f" order by {order}"
        yield from self._rows_of(sql, params)

    def corpus_rows(self, table: str, ids: Iterable[str] | None = None) -> list[dict]:
        """The records of ``table`` (those of ``ids`` only, when given) in insertion order,
        each with its place in that order under ``row_order``: what the engine builds its
        corpus from, and brings up to date with."""
        select = f'select rowid as row_order, * from "{table}"'
        if ids is None:
            return list(self._rows_of(f"{select} order by rowid", {}))
        ids, rows = list(ids), []
        for start in range(0, len(ids), 500):
            marks, params = in_list("id", ids[start:start + 500])
            rows.extend(self._rows_of(f"{select} where id in ({marks})", params))
        return sorted(rows, key=lambda row: row["row_order"])

    def _rows_of(self, sql: str, params: Mapping[str, Any] | None) -> Iterator[dict]:
        """The decoded rows ``sql`` selects (read whole, then yielded)."""
        result = self.db.execute(sql, params)
        keys = list(result.keys())
        for row in result.all():
            yield _decode(dict(zip(keys, row)))


def _migrate(engine: sa.Engine) -> None:
    """Bring the database to the newest schema (a SQLite file is created when missing, and
    kept in WAL mode; its connections enforce foreign keys)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=wal")
    schema.migrations.apply(engine)
