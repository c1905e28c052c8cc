"""Request-size limits: a body over the cap is refused with 413 and a JSON message.

A pure ASGI middleware, so nothing buffers the body on its way: a declared ``Content-Length``
over the cap is refused before any byte is read, and a body without one (chunked) is counted
as it streams and refused as soon as the count passes the cap - the application never holds
more than the cap in memory. Limits are read per request from ``app.state.limits``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes import API_PREFIX

MIB = 1024 * 1024
DEFAULT_BODY_BYTES = 1 * MIB
DEFAULT_IMPORT_BYTES = 20 * MIB
API_IMPORT = f"{API_PREFIX}/import"
# The admin's import form: its page reads the upload itself (capped at the import cap, see
# api/pages/admin_data.py) and answers an HTML page; this outer cap leaves room for the form.
PAGE_IMPORT = "/admin/data/import"
PAGE_SLACK = 64 * 1024


def _bulk_paths(bulk: int) -> dict[str, int]:
    return {API_IMPORT: bulk, PAGE_IMPORT: bulk + PAGE_SLACK}


@dataclass(frozen=True)
class Limits:
    """The body cap of every request, with larger caps for some paths (bulk import)."""

    body_bytes: int = DEFAULT_BODY_BYTES
    by_path: dict[str, int] = field(default_factory=lambda: _bulk_paths(DEFAULT_IMPORT_BYTES))

    @classmethod
    def from_settings(cls, settings) -> Limits:
        """From ``settings.max_body_bytes`` and ``settings.max_import_bytes`` when set."""
        body = getattr(settings, "max_body_bytes", None) or DEFAULT_BODY_BYTES
        bulk = getattr(settings, "max_import_bytes", None) or DEFAULT_IMPORT_BYTES
        return cls(body_bytes=body, by_path=_bulk_paths(bulk))

    @property
    def import_bytes(self) -> int:
        """The largest exchange document an import accepts (API or page)."""
        return self.by_path.get(API_IMPORT, DEFAULT_IMPORT_BYTES)

    def for_path(self, path: str) -> int:
        return self.by_path.get(path.rstrip("/") or "/", self.body_bytes)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes its cap. An HTTPException, so that
    FastAPI's body parsing re-raises it unchanged and the app answers 413 as usual."""

    def __init__(self, limit: int):
        super().__init__(413, _message(limit))


def _message(limit: int) -> str:
    size = f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"
    return f"request body too large: at most {size} here"


class BodySizeLimit:
    """Refuse request bodies over ``app.state.limits`` (see :class:`Limits`) with 413."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits: Limits = getattr(scope["app"].state, "limits", None) or Limits()
        limit = limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:  # raised where no handler turned it into a response
            if started:
                raise
            await _refuse(limit, scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": _message(limit)}, status_code=413,
                            headers={"Connection": "close"})
    await response(scope, receive, send)


def install_limits(app: FastAPI, settings) -> None:
    """Cap request bodies as ``settings`` say (defaults: 1 MiB; 20 MiB for bulk import)."""
    app.state.limits = Limits.from_settings(settings)
    app.add_middleware(BodySizeLimit)
