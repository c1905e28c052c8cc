"""A lock that one process at a time holds: for the work that must run once per server
however many worker processes serve it (`matcher serve --workers N`): delivering the outbox,
embedding the missing texts.

An advisory ``flock`` on a file beside the database (for PostgreSQL, in the server's state
folder: :meth:`matcher.settings.Settings.local_files`): the operating system releases it when
the holder ends, even by a crash, so another worker takes the work over on its next try. It
spans the processes of one machine; across servers over one PostgreSQL database the courier
takes a database lock as well (:mod:`matcher.store.locks`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class ProcessLock:
    """An exclusive lock on ``path``, taken without waiting (:meth:`try_acquire`)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other holder has it; whether this holder has it now."""
        with self._guard:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)  # closing the file releases the lock
                self._fd = None


def worker_lock(db: Path, work: str, workers: int) -> ProcessLock | None:
    """The lock of ``work`` for a server of ``workers`` processes over ``db`` (the path its
    local files are named after: ``Settings.local_files()``); None with one process (nothing
    to share: the work runs as it always did)."""
    if workers <= 1:
        return None
    return ProcessLock(db.with_name(f"{db.name}.{work}.lock"))
