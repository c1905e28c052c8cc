"""Every router, gathered in one place. Versioned resources live under ``/api/v1``."""

from fastapi import APIRouter

from api.routes import health, plugins, suggestions

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(suggestions.router)
api_router.include_router(plugins.router)
api_router.include_router(__import__("api.routes.matches", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.associations", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.needs", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.practices", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.partners", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.offerings", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.exchange", fromlist=["router"]).router)
api_router.include_router(__import__("api.routes.rights", fromlist=["router"]).router)

__all__ = ["API_PREFIX", "api_router", "health"]
