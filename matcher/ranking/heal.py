"""Embedding in the background: one thread at a time embeds the texts that have no vector
yet (left by an interrupted import, or by an import that did not embed), while the engine
serves from what is embedded and says how much is missing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from matcher.errors import Unavailable
from matcher.process_lock import ProcessLock

log = logging.getLogger(__name__)

RETRY_S = 5.0  # the database out of reach: the work is tried again after this long


@dataclass(frozen=True)
class EmbeddingStatus:
    """How many (embedder, text) pairs have no vector, and whether embedding is under way."""

    missing: int
    in_progress: bool


class Healer:
    """Runs ``work(stop)`` in a daemon thread, at most one at a time; ``work`` should return
    soon after ``stop`` is set. While the database cannot be reached, the work is tried again
    every :data:`RETRY_S` seconds."""

    def __init__(self, work: Callable[[threading.Event], object], name: str = "embed-missing",
                 lock: ProcessLock | None = None):
        self._work = work
        self._process_lock = lock  # several worker processes: one embeds at a time
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> bool:
        """Start the work unless it runs already; whether a new thread started."""
        with self._lock:
            if self.running or self._stop.is_set():
                return False
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
            return True

    def _run(self) -> None:
        lock = self._process_lock
        try:
            # another worker process may be embedding the same texts: wait for it (running,
            # so /health says "starting"), then embed what it left, usually nothing
            while lock is not None and not lock.try_acquire():
                if self._stop.wait(1.0):
                    return
            while True:
                try:
                    self._work(self._stop)
                    break
                except Unavailable:  # down or restarting: go on once it is back
                    log.warning("embedding the missing texts waits: the database cannot be "
                                "reached")
                    if self._stop.wait(RETRY_S):
                        return
            self.last_error = None
        except Exception as exc:  # the server keeps serving; /health says what is missing
            if not self._stop.is_set():
                log.exception("embedding the missing texts failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
        finally:
            if lock is not None:
                lock.release()

    def stop(self, timeout: float = 10) -> None:
        """Ask the work to stop, wait up to ``timeout`` seconds; no new start afterwards."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
