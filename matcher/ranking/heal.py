"""Embedding in the background: one thread at a time embeds the texts that have no vector
yet (left by an interrupted import, or by an import that did not embed), while the engine
serves from what is embedded and says how much is missing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from matcher.process_lock import ProcessLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingStatus:
    """How many (embedder, text) pairs have no vector, and whether embedding is under way."""

    missing: int
    in_progress: bool


class Healer:
    """Runs ``work(stop)`` in a daemon thread, at most one at a time; ``work`` should return
    soon after ``stop`` is set."""

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
            self._work(self._stop)
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
