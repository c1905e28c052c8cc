"""Bearer-token authentication, role guards and the policy table every operation is listed in.

``guard(operation_id, *roles)`` both protects a route and records which roles may call it; the
authorization tests walk the OpenAPI and fail on any operation missing from ``POLICY``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.operations import refusal
from matcher.auth import Principal, Role

POLICY: dict[str, frozenset[Role]] = {}
PUBLIC: set[str] = set()  # operations that need no token (health, docs)
_GUARDS: dict[str, object] = {}

ALL_ROLES = frozenset(Role)
_bearer = HTTPBearer(auto_error=False, description="an API token from `matcher token create`")

# At most FAILURE_LIMIT failed authentications per client address in FAILURE_WINDOW seconds.
FAILURE_LIMIT = 20
FAILURE_WINDOW = 60.0
_failures: dict[str, deque[float]] = defaultdict(deque)
_failures_lock = threading.Lock()


def _too_many_failures(client: str) -> bool:
    now = time.monotonic()
    with _failures_lock:
        recent = _failures[client]
        while recent and now - recent[0] > FAILURE_WINDOW:
            recent.popleft()
        return len(recent) >= FAILURE_LIMIT


def _record_failure(client: str) -> None:
    with _failures_lock:
        _failures[client].append(time.monotonic())


def reset_failures() -> None:
    with _failures_lock:
        _failures.clear()


def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The caller behind the ``Authorization: Bearer`` token: 401 without a valid one, 429 after
    too many failures from one address."""
    if credentials is None or credentials.scheme.lower() != "bearer":  # guessed nothing
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    client = request.client.host if request.client else "unknown"
    if _too_many_failures(client):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "too many failed authentications; try again in a minute")
    principal = request.app.state.engines.get().store.principal_for(credentials.credentials)
    if principal is None:
        _record_failure(client)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def guard(operation_id: str, *roles: Role):
    """A dependency letting only ``roles`` (default: all) call ``operation_id``; 403 otherwise."""
    allowed = frozenset(roles) or ALL_ROLES
    if operation_id in _GUARDS:  # annotations may be evaluated more than once
        if POLICY[operation_id] != allowed:
            raise ValueError(f"operation {operation_id!r} guarded twice with different roles")
        return _GUARDS[operation_id]
    POLICY[operation_id] = allowed

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refusal(principal.role, operation_id))
        return principal

    _GUARDS[operation_id] = Depends(check)
    return _GUARDS[operation_id]
