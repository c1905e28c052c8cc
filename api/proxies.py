"""Which peers may say who the client is: forwarded headers (``X-Forwarded-For``,
``X-Forwarded-Proto``) count only from the addresses in ``MATCHER_TRUSTED_PROXIES``.

The app applies the setting itself, so TestClient, a test server and ``matcher serve`` all see
the same client address. The server must therefore not rewrite the client on its own: uvicorn
does by default (it trusts ``X-Forwarded-For`` from 127.0.0.1), hence ``SERVER_OPTIONS``.
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from matcher.settings import Settings

SERVER_OPTIONS = {"proxy_headers": False}  # for uvicorn.run / uvicorn.Config


def install_proxy_headers(app: FastAPI, settings: Settings) -> None:
    """Honour forwarded headers from ``settings.trusted_proxies`` only (none by default)."""
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
