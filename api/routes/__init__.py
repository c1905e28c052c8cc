"""Every router, gathered in one place. Versioned resources live under ``/api/v1``."""

from fastapi import APIRouter

from api.routes import health, plugins, suggestions
from api.schemas import ErrorMessage, ValidationErrorMessage

API_PREFIX = "/api/v1"


def _error(description: str, model=ErrorMessage) -> dict:
    return {"model": model, "description": description}


# What any operation under /api/v1 may answer besides its own statuses (a route's own
# description of a status wins).
COMMON_ERRORS = {
    401: _error("No valid bearer token"),
    403: _error("The caller's role or scope may not do this"),
    413: _error("The request body is larger than the cap"),
    422: _error("A parameter or a body field is malformed or out of range",
                ValidationErrorMessage | ErrorMessage),
    429: _error("Too many failed authentications from this address; try again in a minute"),
}

api_router = APIRouter(prefix=API_PREFIX, responses=COMMON_ERRORS)
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
