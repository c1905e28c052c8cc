"""Request bodies are JSON as the standard defines it: a bare ``NaN``, ``Infinity`` or
``-Infinity`` (Python's ``json`` reads them), or a number too large for a float, is a 422 naming
the field, on every route, before any validation can trip over it. Installed as an app-wide
dependency (see :mod:`api.app`)."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from matcher.strict_json import non_finite_in, rule


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this type as JSON (no type at all included)."""
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.startswith("application/") and kind.endswith("+json")


async def refuse_non_finite_numbers(request: Request) -> None:
    """Raise a 422 (:class:`RequestValidationError`) when the JSON body holds a non-finite
    number. Form bodies are left alone: they are read as forms, not JSON."""
    if not _is_json(request.headers.get("content-type")):
        return
    found = non_finite_in(await request.body())
    if found:
        path, token = found
        raise RequestValidationError([{
            "type": "finite_number", "loc": ("body", *path),
            "msg": rule(token),
        }])
