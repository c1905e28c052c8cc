"""The one place engine errors become HTTP responses: ``{"detail": "..."}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from matcher.errors import Conflict, Forbidden, InvalidInput, MatcherError, NotFound

# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[MatcherError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 422),
    (MatcherError, 400),
)


def status_for(exc: MatcherError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


async def matcher_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MatcherError)
    return JSONResponse(status_code=status_for(exc), content={"detail": str(exc)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MatcherError, matcher_error_handler)
