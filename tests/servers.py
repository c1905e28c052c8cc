"""A real uvicorn server on a free loopback port, in a thread: for the tests where HTTP itself
matters (the browser, request limits, concurrency, Schemathesis)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.proxies import SERVER_OPTIONS
from matcher.settings import load_settings


@contextmanager
def serve_app(app: FastAPI, start_timeout: float = 60,
              log_level: str = "warning") -> Iterator[str]:
    """Serve ``app`` (lifespan on) until the block ends; yields its base URL. ``log_level``
    "info" turns uvicorn's access log on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # as `matcher serve` runs it: forwarded headers are the app's business (MATCHER_TRUSTED_PROXIES)
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on",
                                           **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@contextmanager
def serve(db: Path) -> Iterator[str]:
    """The app over the SQLite file ``db``, on default settings."""
    with serve_app(create_app(load_settings(db=db))) as url:
        yield url
