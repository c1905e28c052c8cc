"""The connection, transactions and row helpers every part of the store builds on."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import get_args, get_origin

from pydantic import BaseModel
from sqlite_utils import Database

from matcher.exchange import Association, Eligibility, Need, Offering, Partner, Practice
from matcher.migrations import migrations


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
    return {k: json.loads(v) if k in _JSON and v is not None
            else (bool(v) if k in _BOOLS and v is not None else v) for k, v in row.items()}


# Writers of this process take turns (SQLite has one writer at a time anyway; waiting here
# rather than on its busy timeout keeps them in order).
_WRITES = threading.RLock()


class BaseStore:
    """A SQLite file, migrated on open, with explicit IMMEDIATE write transactions.

    Each thread gets its own connection (``db``), so that a reader never sees another
    thread's uncommitted writes: in WAL mode it reads the last committed state while a writer
    works. ``check_same_thread`` is kept for callers; connections may be closed from any
    thread by :meth:`close`.
    """

    def __init__(self, path: str | Path, *, check_same_thread: bool = True):
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.db.execute("PRAGMA journal_mode=wal")
        migrations.apply(self.db)

    @property
    def db(self) -> Database:
        """This thread's connection (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30,
                                   isolation_level=None)  # explicit transactions: transaction()
            conn.execute("PRAGMA foreign_keys=ON")
            with self._connections_lock:
                self._connections.append(conn)
            db = self._local.db = Database(conn)
        return db

    def close(self) -> None:
        """Close every thread's connection."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def writing(self) -> Iterator[Database]:
        """One write transaction, begun IMMEDIATE, and no other thread writing meanwhile."""
        with _WRITES, self.transaction() as db:
            yield db

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """No other thread of this process writes while the block runs."""
        with _WRITES:
            yield

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

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read transaction: every read inside sees one committed state."""
        conn = self.db.conn
        if conn.in_transaction:
            yield self.db
            return
        conn.execute("BEGIN")
        try:
            yield self.db
        finally:
            conn.execute("COMMIT")

    def data_version(self) -> int:
        row = self.db.execute("select value from meta where key = 'data_version'").fetchone()
        return int(row[0]) if row else 0

    def evidence_version(self) -> int:
        """A counter raised whenever the evidence of past exchanges changes (an outcome
        recorded; see migration m021): the engine refreshes the evidence it ranks with."""
        row = self.db.execute("select value from meta where key = 'evidence_version'").fetchone()
        return int(row[0]) if row else 0

    def _bump_version(self) -> None:
        self.db.execute(
            "insert into meta (key, value) values ('data_version', '1') on conflict(key) "
            "do update set value = cast(value as integer) + 1"
        )
        self._new_token("data_token")

    def _new_token(self, key: str) -> None:
        """A fresh random value under ``key`` of meta, in the caller's transaction: unlike a
        counter, never the same twice (not even in a database restored from a copy)."""
        self.db.execute("insert or replace into meta (key, value) values (?, lower(hex("
                        "randomblob(12))))", [key])

    # ------------------------------------------------------------------ row helpers
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

    def _rows(self, table: str, where: str = "", params: Iterable = (), order: str = "rowid"):
        sql = f"select * from [{table}]" + (f" where {where}" if where else "") + f" order by {order}"
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            yield _decode(dict(zip(names, values)))
