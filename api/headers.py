"""Headers every response carries, whoever answered it (a route, an error handler, a limit).

- A Content-Security-Policy and ``nosniff`` unless the response set its own (the pages and
  the docs do): API answers are data, never a document to render or frame.
- A 405 names every method the OpenAPI document lists for the path in ``Allow``, not only
  those of the first route that matched it (Starlette's answer).

A pure ASGI middleware, so streamed bodies pass through untouched.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.openapi import allowed_methods

API_CSP = "default-src 'none'; frame-ancestors 'none'"


class ResponseHeaders:
    """Add :data:`API_CSP` and ``nosniff`` where missing; complete ``Allow`` on a 405."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", API_CSP.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                allow = (allowed_methods(scope["app"], scope["path"])
                         if message["status"] == 405 else None)
                if allow:
                    headers = [(k, v) for k, v in headers if k.lower() != b"allow"]
                    headers.append((b"allow", ", ".join(allow).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_headers(app: FastAPI) -> None:
    app.add_middleware(ResponseHeaders)
