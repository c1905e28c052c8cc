"""Server-rendered web pages (Jinja2, no JavaScript needed) over the same engine as the API.

``install(app)`` adds them to an app: the page routers (left out of the OpenAPI schema: they
are not API operations), the self-hosted static files, and the handlers that answer page
errors in HTML.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from api.pages import (
    admin,
    admin_data,
    association,
    association_exchanges,
    association_matches,
    association_needs,
    association_not_interested,
    association_suggestions,
    coordinator,
    coordinator_dashboard,
    coordinator_match,
    library,
    match_talk,
    notifications,
    partner,
    partner_matches,
    partner_needs,
    partner_profile,
    search,
    signin,
)
from api.errors import RETRY_AFTER, matcher_error_handler
from api.pages.config import WebSettings
from api.pages.i18n import N_
from api.pages.render import SECURITY_HEADERS, redirect, render
from api.pages.session import (
    CsrfRejected,
    FormTooLarge,
    PageNotFound,
    SignInRequired,
    visitor_context,
    web_context,
)
from matcher.errors import Unavailable

STATIC = Path(__file__).resolve().parent.parent / "static"

ROUTERS = (signin.router, association.router, association_needs.router,
           association_exchanges.router,
           association_suggestions.router, association_not_interested.router,
           association_matches.router, partner.router,
           partner_matches.router, partner_profile.router, partner_needs.router,
           coordinator.router, coordinator_match.router, coordinator_dashboard.router,
           admin.router, admin_data.router, notifications.router, search.router,
           match_talk.router, library.router)
pages_router = APIRouter(include_in_schema=False)
for _router in ROUTERS:
    pages_router.include_router(_router)


async def _sign_in_required(request: Request, exc: Exception):
    assert isinstance(exc, SignInRequired)
    ctx = await run_in_threadpool(web_context, request)
    return redirect(ctx, "/signin?next=" + quote(exc.next_path, safe="/"))


def _error_page(status: int, title: str, message: str):
    async def handler(request: Request, exc: Exception):
        ctx = await run_in_threadpool(web_context, request)
        return await run_in_threadpool(render, ctx, "error.html", status, title=title,
                                       message=message)
    return handler


NOT_PAGES = ("/api/", "/health", "/openapi.json", "/docs", "/static/")


async def _unavailable(request: Request, exc: Exception):
    """The database out of reach: a page says so in the visitor's language, read from the
    request alone (the session cannot be read); the API answers its JSON 503. Both ask to
    come back after ``Retry-After``."""
    if request.url.path.startswith(NOT_PAGES):
        return await matcher_error_handler(request, exc)
    try:
        response = await run_in_threadpool(
            render, visitor_context(request), "error.html", 503,
            title=N_("Back in a moment"),
            message=N_("The exchange cannot reach its database just now. Wait a minute, "
                       "then reload the page. A form you sent just now was not saved: send "
                       "it again then."))
    except Unavailable:  # the page itself needs the database (its first page ever)
        return await matcher_error_handler(request, exc)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


STATIC_CACHE = "public, max-age=86400"


class CachedStaticFiles(StaticFiles):
    """The static files, cached by browsers and proxies for a day (they are revalidated by
    ETag and Last-Modified after that)."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = STATIC_CACHE
        return response


def install(app: FastAPI, settings: WebSettings | None = None) -> None:
    """Serve the pages and their static files from ``app``."""
    app.state.web_settings = settings or WebSettings()
    app.include_router(pages_router)
    app.mount("/static", CachedStaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PageNotFound, _error_page(
        404, N_("Page not found"), N_("There is no such page, or it is not yours to see.")))
    app.add_exception_handler(CsrfRejected, _error_page(
        403, N_("Form expired"), N_("This form was not accepted: it has expired or did not come "
                                    "from this site. Go back, reload the page and try again.")))
    app.add_exception_handler(FormTooLarge, _error_page(
        413, N_("Form too large"), N_("This form is too large to be accepted.")))
    app.add_exception_handler(Unavailable, _unavailable)


__all__ = ["install", "pages_router", "ROUTERS", "SECURITY_HEADERS"]
