"""The app factory. No database or model is opened here or at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import GZipMiddleware

from api import throttle
from api.docs import install_docs
from api.errors import install_error_handlers
from api.headers import install_headers
from api.limits import install_limits
from api.log_redaction import install_log_redaction
from api.openapi import install_openapi
from api.pages import install as install_pages
from api.proxies import install_proxy_headers
from api.routes import api_router, health
from api.state import EngineProvider
from api.strict_body import refuse_non_finite_numbers
from api.turns import open_turns
from matcher import __version__
from matcher.services.outbox import Courier
from matcher.settings import Settings, load_settings

DESCRIPTION = """Partners and peers for the needs of artisanal and small-scale mining
associations. Every suggestion carries its score, each scorer's contribution and
human-readable reasons."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the store at startup, build the corpus in the background (``/health`` says
    "starting" until it is ready), embed in the background whatever texts have no vector yet
    (an interrupted import), and deliver the e-mail outbox in the background; stop them and
    close the store at shutdown. With several worker processes, one of them at a time
    delivers the outbox and embeds (a lock file beside the database)."""
    engines: EngineProvider = app.state.engines
    open_turns(app)
    engines.warm()
    courier = Courier(engines)
    courier.start()
    try:
        yield
    finally:
        courier.stop()
        engines.close()


def create_app_from_environment() -> FastAPI:
    """The app on the settings of the environment (``MATCHER_*``, ``MATCHER_CONFIG``): the
    factory each worker process of ``matcher serve --workers N`` calls."""
    return create_app(load_settings())


def create_app(settings: Settings | None = None) -> FastAPI:
    """A FastAPI app serving the engine for ``settings`` (default: environment / config)."""
    settings = settings or load_settings()
    app = FastAPI(title="delve-matcher", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, dependencies=[Depends(refuse_non_finite_numbers)],
                  docs_url=None, redoc_url=None)  # /docs: api.docs
    app.state.settings = settings
    app.state.engines = EngineProvider(settings)
    install_error_handlers(app)
    install_log_redaction()
    install_limits(app, settings)
    throttle.share_among(settings.workers)
    # HTML, CSS, JS and JSON above 500 bytes go out gzipped to clients that ask (the CSRF
    # token of the pages is masked afresh per page, so compression reveals no secret)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    install_headers(app)  # outermost: a 413 from the limits gets the headers too
    install_docs(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(api_router)
    install_pages(app)  # the web pages (left out of the OpenAPI schema) and /static
    install_proxy_headers(app, settings)  # outermost: every part sees the same client
    return app
