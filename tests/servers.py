"""A real uvicorn server on a free loopback port, in a thread: for the tests where HTTP itself
matters (the browser, request limits, concurrency, Schemathesis); and ``matcher serve`` itself
in a child process, for its worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.proxies import SERVER_OPTIONS
from matcher.settings import load_settings


@contextmanager
def serve_app(app: FastAPI, start_timeout: float = 60,
              log_level: str = "warning", warm: bool = True) -> Iterator[str]:
    """Serve ``app`` (lifespan on) until the block ends; yields its base URL once it started
    and, with ``warm``, once its corpus is built (/health "starting" until then). ``log_level``
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
        engines = getattr(app.state, "engines", None)
        while warm and engines is not None and engines.warming \
                and time.monotonic() < deadline + 240:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@contextmanager
def serve(target: str | Path, warm: bool = True) -> Iterator[str]:
    """The app over the database ``target`` (a SQLite file's path or a PostgreSQL URL), on
    default settings (``warm``: see serve_app)."""
    with serve_app(create_app(load_settings(db=str(target))), warm=warm) as url:
        yield url


def free_port() -> int:
    """A loopback port free now (a server binds it again: a small race with other
    processes)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@contextmanager
def serve_process(db: Path, workers: int = 1, env: Mapping[str, str] | None = None,
                  start_timeout: float = 180) -> Iterator[tuple[str, subprocess.Popen]]:
    """``matcher serve --db DB --workers N`` in a child process, with the ``MATCHER_*``
    settings of ``env`` only (none inherited from this process), until the block ends; yields
    its base URL (once it answers /health) and the process (uvicorn's supervisor)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    environment.update(env or {})
    log = tempfile.TemporaryFile()  # a pipe nobody reads would fill and stop the server
    process = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=environment, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(log.read().decode(errors="replace")[-3000:])
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def worker_pids(process: subprocess.Popen) -> list[int]:
    """The worker processes uvicorn's supervisor ``process`` runs (not multiprocessing's
    resource tracker)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(pid) for pid in children
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]


def race(requests: list[tuple[str, Mapping[str, str], str, dict]]) -> list[httpx.Response]:
    """POST ``requests`` (server, headers, path, json) at one moment, a thread and an open
    connection each, so that the race is about the request; the answers in order."""
    barrier = threading.Barrier(len(requests))
    clients = [httpx.Client(base_url=base, timeout=60, headers=dict(headers))
               for base, headers, _, _ in requests]
    for client in clients:
        client.get("/health")

    def send(i: int) -> httpx.Response:
        _, _, path, body = requests[i]
        barrier.wait()
        return clients[i].post(path, json=body)

    try:
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            return list(pool.map(send, range(len(requests))))
    finally:
        for client in clients:
            client.close()
