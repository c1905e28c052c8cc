"""The one engine an app serves from, created on first use and closed at shutdown."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from matcher.settings import Settings

if TYPE_CHECKING:
    from matcher.ranking.engine import Engine


class EngineProvider:
    """Creates the app's :class:`~matcher.ranking.engine.Engine` once, thread-safely, on first ``get``.

    The engine's store is opened with ``check_same_thread=False`` because FastAPI runs the
    (synchronous) endpoints in a thread pool; each thread reads through its own connection.
    Opening the store does not load any model: the models and the corpus load on the first
    request that needs them. The engine serves from what is embedded and embeds what is
    missing in the background (``embed_on_build=False``, see :meth:`Engine.heal`).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._engine is not None

    def get(self) -> Engine:
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                from matcher.ranking.engine import Engine

                self._engine = Engine.for_server(self.settings)
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
