"""Every router, gathered in one place. Versioned resources live under ``/api/v1``."""

from fastapi import APIRouter

from api.routes import (
    associations,
    exchange,
    health,
    matches,
    needs,
    offerings,
    partners,
    plugins,
    practices,
    rights,
    suggestions,
)

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
for module in (suggestions, plugins, matches, associations, needs, practices, partners,
               offerings, exchange, rights):
    api_router.include_router(module.router)

__all__ = ["API_PREFIX", "api_router", "health"]
