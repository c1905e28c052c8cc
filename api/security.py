"""Bearer-token authentication, role guards and the policy table every operation is listed in.

``guard(operation_id, *roles)`` both protects a route and records which roles may call it; the
authorization tests walk the OpenAPI and fail on any operation missing from ``POLICY``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import throttle
from api.operations import refusal
from matcher.principals import Principal, Role
from matcher.services import sessions

POLICY: dict[str, frozenset[Role]] = {}
PUBLIC: set[str] = set()  # operations that need no token (health, docs)
_GUARDS: dict[str, object] = {}

ALL_ROLES = frozenset(Role)
_bearer = HTTPBearer(auto_error=False, description="an API token from `matcher token create`")

TOO_MANY = "too many failed authentications; try again in a minute"


async def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The caller behind the ``Authorization: Bearer`` token. A valid token always passes;
    without one: 401, or 429 once the caller's address has too many failures (see
    api.throttle); a wrong one is counted, then the same. ``async`` (not run in the thread
    pool, see api.deps): one indexed read of the token's hash, which never waits for a
    writer (the database is in WAL mode)."""
    token = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" \
        else None
    engine = request.app.state.engines.get()
    principal = sessions.principal_for_token(engine, token) if token else None
    if principal is not None:
        return principal
    if token is None:  # not a guess: not counted
        if throttle.over_limit(throttle.client_key(request)):
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    if throttle.token_failed(request):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY)
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked token",
                        headers={"WWW-Authenticate": "Bearer"})


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def guard(operation_id: str, *roles: Role):
    """A dependency letting only ``roles`` (default: all) call ``operation_id``; 403 otherwise."""
    allowed = frozenset(roles) or ALL_ROLES
    if operation_id in _GUARDS:  # annotations may be evaluated more than once
        if POLICY[operation_id] != allowed:
            raise ValueError(f"operation {operation_id!r} guarded twice with different roles")
        return _GUARDS[operation_id]
    POLICY[operation_id] = allowed

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal(principal.role, operation_id))
        return principal

    _GUARDS[operation_id] = Depends(check)
    return _GUARDS[operation_id]
