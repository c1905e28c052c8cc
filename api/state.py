"""The one engine an app serves from, created on first use and closed at shutdown."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from matcher.settings import Settings

if TYPE_CHECKING:
    from matcher.ranking.engine import Engine

log = logging.getLogger(__name__)


class EngineProvider:
    """Creates the app's :class:`~matcher.ranking.engine.Engine` once, thread-safely, on first ``get``.

    The engine's store is opened with ``check_same_thread=False`` because FastAPI runs the
    (synchronous) endpoints in a thread pool; each thread reads through its own connection.
    Opening the store does not load any model; the app's start-up builds the corpus in the
    background (:meth:`warm`), and the models load on the first request that needs them. The engine serves from what is embedded and embeds what is
    missing in the background (``embed_on_build=False``, see :meth:`Engine.heal`).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None
        self._stopping = threading.Event()

    def warm(self) -> None:
        """Start the engine and, in a background thread, the corpus (so the first suggestion
        does not build it), then the embedding of what is missing: :attr:`warming` until
        done."""
        engine = self.get()

        def work() -> None:
            healing = False
            while True:
                try:
                    engine.warm_up()  # the corpus from its file when one is current
                except Exception:  # the requests will try again, and say why
                    log.exception("building the corpus at start failed")
                if not healing:  # after the corpus: it tells which texts may lack vectors
                    engine.heal()
                    healing = True
                # texts left out for want of vectors are being embedded: build again once
                # they are, so that "ok" means the first suggestion finds a current corpus
                if not engine.healer.running:
                    break
                while engine.healer.running and not self._stopping.wait(0.2):
                    pass
                if self._stopping.is_set():
                    break

        self._warming = threading.Thread(target=work, name="warm-corpus", daemon=True)
        self._warming.start()

    @property
    def warming(self) -> bool:
        """Whether the corpus is being built at start (``/health`` says "starting")."""
        thread = self._warming
        return thread is not None and thread.is_alive()

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
        self._stopping.set()
        thread = self._warming
        if thread is not None:
            thread.join(timeout=120)  # the build holds the store: let it end first
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
