"""The API docs at ``/docs``: Swagger UI served from the app itself, so they work offline.

Swagger UI's files come from a packaged copy (the ``fastapi-offline`` distribution ships them);
the page's own start-up script and icon are in ``api/static``. The page runs no inline script
or style, and its Content-Security-Policy lets it load only this app's files.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_FILES = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = "/docs/assets"
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
DOCS_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and Swagger UI's files (create the app with ``docs_url=None``)."""
    page = _PAGE.format(title=escape(f"{app.title} – API docs"), assets=ASSETS,
                        openapi_url=escape(app.openapi_url or "/openapi.json"))
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_FILES), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=DOCS_HEADERS)
