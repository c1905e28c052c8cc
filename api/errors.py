"""The one place engine errors become HTTP responses: ``{"detail": "..."}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from matcher.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MatcherError,
    NotFound,
    NotReady,
)

# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[MatcherError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotReady, 503),
    (MatcherError, 400),
)


RETRY_AFTER = 5  # seconds a client should wait before asking again for a record not ready


def status_for(exc: MatcherError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


async def matcher_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MatcherError)
    headers = {"Retry-After": str(RETRY_AFTER)} if isinstance(exc, NotReady) else None
    return JSONResponse(status_code=status_for(exc), content={"detail": str(exc)},
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MatcherError, matcher_error_handler)
