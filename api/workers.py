"""Several worker processes, each listening on its own socket (``SO_REUSEPORT``), so that the
kernel spreads the connections over them.

uvicorn's ``workers`` bind one socket in the supervisor and share it: every worker accepts
from one queue, and the first to wake takes all the connections waiting (asyncio accepts up to
the backlog at once). Ten keep-alive connections opened together all went to one worker in
three of seven runs of wrk by hand, which then served about half as much. Here each worker binds
a socket of its own into one ``SO_REUSEPORT`` group, and the kernel gives each new connection
to one of them by a hash of its addresses. Where the option is missing (not Linux), the shared
socket as before.
"""

from __future__ import annotations

import errno
import inspect
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


class PortTaken(Exception):
    """Another process listens on the address."""


def run_workers(app: str, workers: int, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` (an import string of a factory) with ``workers`` processes."""
    if not REUSE_PORT or port == 0:  # port 0: each worker would get a port of its own
        uvicorn.run(app, factory=True, workers=workers, host=host, port=port, **options)
        return
    _check_free(host, port)
    config = uvicorn.Config(app, factory=True, workers=workers, host=host, port=port,
                            **options)
    # uvicorn before about 0.51 also took the workers' target, as uvicorn.run passed it then
    older = "target" in inspect.signature(Multiprocess).parameters
    extra = {"target": uvicorn.Server(config).run} if older else {}
    Multiprocess(config, sockets=_OwnSocket(host, port), **extra).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` in its ``SO_REUSEPORT`` group (not listening yet:
    uvicorn listens on it)."""
    # IPPROTO_TCP named, as uvicorn does: asyncio sets TCP_NODELAY only on sockets that say
    # so (without it, Nagle's algorithm held each response back ~40 ms behind delayed ACKs)
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class _OwnSocket(list):
    """What uvicorn's supervisor hands each worker it spawns (or spawns again) as its list of
    sockets: pickled into the new process, it becomes a socket bound there, anew."""

    def __init__(self, host: str, port: int):
        super().__init__()
        self.host, self.port = host, port

    def __reduce__(self):
        return _bound, (self.host, self.port)


def _bound(host: str, port: int) -> list[socket.socket]:
    return [listening_socket(host, port)]


def _check_free(host: str, port: int) -> None:
    """PortTaken when a process listens on the address: without this, workers would join the
    group of another server started the same way, and share its connections."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortTaken(f"{host}:{port} is in use by another process") from None
        raise
    finally:
        probe.close()


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
