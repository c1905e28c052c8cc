"""Every router, gathered in one place. Versioned resources live under ``/api/v1``."""

from fastapi import APIRouter

from api.routes import health, plugins, suggestions

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(suggestions.router)
api_router.include_router(plugins.router)

__all__ = ["API_PREFIX", "api_router", "health"]
