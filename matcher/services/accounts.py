"""Accounts for the admin's pages and the CLI: web users and API tokens, listed, created,
disabled and revoked. The rules (scopes, names, password strength) are
:mod:`matcher.accounts.users`'; this module is what the entry points call instead of the
store."""

from __future__ import annotations

from matcher.accounts import users
from matcher.accounts.users import Scope
from matcher.principals import Role
from matcher.ranking.engine import Engine
from matcher.store import tokens

MAX_LABEL = tokens.MAX_LABEL  # characters in a token's label


def list_users(engine: Engine, user_id: int | None = None) -> list[dict]:
    """Every web user (never a password), or only ``user_id``."""
    return engine.store.users(user_id)


def list_tokens(engine: Engine, token_id: int | None = None) -> list[dict]:
    """Every token's metadata (never the token), or only ``token_id``'s."""
    return engine.store.tokens(token_id)


def check_scope(engine: Engine, role: str | Role, **parts) -> Scope:
    """The checked role and scope of a new user or token (see :func:`users.check_scope`)."""
    return users.check_scope(engine.store, engine.ref.regions, role, **parts)


def create_user(engine: Engine, username: str, password: str, scope: Scope) -> int:
    return users.create_user(engine.store, username, password, scope.role, **scope.as_kwargs())


def disable_user(engine: Engine, username: str) -> None:
    """The user can no longer sign in; their sessions end at once."""
    engine.store.disable_user(username)


def create_token(engine: Engine, scope: Scope, label: str = "") -> tuple[int, str]:
    """A new token's id and the token itself (shown once; only its hash is kept)."""
    return engine.store.create_token(scope.role, label=label, **scope.as_kwargs())


def revoke_token(engine: Engine, token_id: int) -> None:
    """The token stops working at once, and so do the web sessions signed in with it."""
    engine.store.revoke_token(token_id)
