"""The one place errors become HTTP responses: engine errors as ``{"detail": "..."}``, and
request validation errors as FastAPI's list of issues without the values that were sent."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from matcher.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MatcherError,
    NotFound,
    NotReady,
    Unavailable,
)

# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[MatcherError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotReady, 503),
    (Unavailable, 503),
    (MatcherError, 400),
)


RETRY_AFTER = 5  # seconds a client should wait before asking again (a record not ready, or
# the database out of reach)


def status_for(exc: MatcherError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


async def matcher_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MatcherError)
    headers = {"Retry-After": str(RETRY_AFTER)} if isinstance(exc, NotReady | Unavailable) \
        else None
    return JSONResponse(status_code=status_for(exc), content={"detail": str(exc)},
                        headers=headers)


def _plain(value: Any) -> Any:
    """A JSON-safe form of a context value (a number, a string, or its text)."""
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)


def issue(error: dict[str, Any]) -> dict[str, Any]:
    """One validation issue as answered: where (``loc``), which rule (``type``, ``ctx``) and
    the message - never the ``input``, which may be text a user typed."""
    out: dict[str, Any] = {
        "type": str(error.get("type", "")),
        "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
    }
    if error.get("ctx"):
        out["ctx"] = {str(k): _plain(v) for k, v in error["ctx"].items()}
    return out


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": [issue(e) for e in exc.errors()]})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MatcherError, matcher_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
