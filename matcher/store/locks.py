"""Locks that span every server over one PostgreSQL database: a session advisory lock per
kind of work (delivering the e-mail outbox), so that one process of all the servers does it.

The lock lives in a connection of its own, opened for it and held while the holder keeps the
lock: PostgreSQL releases it when that connection ends, by a crash as well, and another
server takes the work over on its next try. Same interface as
:class:`matcher.process_lock.ProcessLock` (``try_acquire``, ``release``, ``held``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from matcher.errors import Unavailable
from matcher.store.sql import create_engine, is_url

log = logging.getLogger(__name__)


def lock_key(work: str) -> int:
    """The advisory lock key of ``work``: a signed 64-bit number of its name (distinct from
    the writers' lock, :data:`matcher.store.dialect.WRITER_LOCK`, which fits 32 bits)."""
    digest = hashlib.sha256(f"delve-matcher:{work}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True) | (1 << 40)


class AdvisoryLock:
    """The session advisory lock of ``work`` on the PostgreSQL database at ``url``, taken
    without waiting (:meth:`try_acquire`)."""

    def __init__(self, url: str, work: str):
        if not is_url(url):
            raise ValueError("an advisory lock needs a PostgreSQL database")
        self.key = lock_key(work)
        self._engine = create_engine(url)
        self._connection: Connection | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._connection is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other session has it; whether this holder has it now. A
        holder whose connection was lost (the database restarted) has lost the lock too:
        it tries again on a new connection."""
        with self._guard:
            if self._connection is not None:
                try:
                    self._connection.exec_driver_sql("SELECT 1")
                    return True
                except (sa.exc.DBAPIError, Unavailable):
                    log.warning("the connection holding lock %s was lost", self.key)
                    self._drop()
            connection = self._engine.connect()
            try:
                taken = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                           {"key": self.key}).scalar()
            except BaseException:
                connection.close()
                raise
            if not taken:
                connection.close()
                return False
            self._connection = connection
            return True

    def release(self) -> None:
        with self._guard:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()  # ending the session releases its locks
            except (sa.exc.DBAPIError, Unavailable):
                pass
            self._connection = None


def database_lock(target: str | Path, work: str) -> AdvisoryLock | None:
    """The lock of ``work`` across every server over ``target``: an advisory lock for a
    PostgreSQL database; None for a SQLite file (one machine: its file locks suffice)."""
    return AdvisoryLock(str(target), work) if is_url(target) else None
