"""Every router, gathered in one place. Versioned resources live under ``/api/v1``."""

from fastapi import APIRouter

from api.routes import (
    dashboard,
    exchange,
    health,
    lessons,
    matches,
    notifications,
    offers,
    plugins,
    profiles,
    rights,
    rounds,
    suggestions,
)
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
    503: _error("The database cannot be reached just now (it is down or restarting); try "
                "again after the seconds in Retry-After"),
}

api_router = APIRouter(prefix=API_PREFIX, responses=COMMON_ERRORS)
for router in (suggestions.router, plugins.router, matches.router, rounds.router,
               *(profiles.ROUTERS[kind] for kind in
                 ("associations", "needs", "practices", "partners", "offerings")),
               offers.router, exchange.router, rights.router, dashboard.router, notifications.router,
               lessons.router):
    api_router.include_router(router)

__all__ = ["API_PREFIX", "api_router", "health"]
