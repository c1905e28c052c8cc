"""Signing in: bearer tokens, passwords and web sessions.

The store keeps only hashes: a token's and a session id's SHA-256, a password's scrypt hash.
The web pages and the API's bearer check call these instead of the store.
"""

from __future__ import annotations

from matcher.accounts import users
from matcher.principals import Principal
from matcher.ranking.engine import Engine


def principal_for_token(engine: Engine, token: str) -> Principal | None:
    """Who a bearer token stands for, or None when it is unknown or revoked."""
    return engine.store.principal_for(token)


def check_password(engine: Engine, username: str, password: str) -> int | None:
    """The id of the active user ``username`` if ``password`` is theirs, else None."""
    return users.check_password(engine.store, username, password)


def start(engine: Engine, session_hash: str, *, user_id: int | None = None,
          token_id: int | None = None, hours: float) -> tuple[Principal, dict] | None:
    """Start a web session for a user or a token; who it is, or None if they went away."""
    engine.store.start_web_session(session_hash, user_id=user_id, token_id=token_id,
                                   hours=hours)
    return engine.store.web_session(session_hash)


def current(engine: Engine, session_hash: str) -> tuple[Principal, dict] | None:
    """The signed-in caller of a live web session, and the session's row."""
    return engine.store.web_session(session_hash)


def end(engine: Engine, session_hash: str) -> None:
    engine.store.end_web_session(session_hash)


def web_secret(engine: Engine) -> bytes:
    """The database's secret for the pages' MACs (CSRF tokens, device cookies)."""
    return engine.store.web_secret()
