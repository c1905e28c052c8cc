"""Accounts for the admin's pages and the CLI: web users and API tokens, listed, created,
disabled and revoked. The rules (scopes, names, password strength) are
:mod:`matcher.accounts.users`'; this module is what the entry points call instead of the
store."""

from __future__ import annotations

from matcher.accounts import users
from matcher.accounts.passwords import check_strength, hash_password
from matcher.accounts.users import Scope
from matcher.errors import InvalidInput
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


def find_users(engine: Engine, text: str = "", limit: int = 25, offset: int = 0
               ) -> tuple[list[dict], int]:
    """One page of the users whose username contains ``text``, and how many match."""
    return engine.store.find_users(text, limit, offset)


def tokens_page(engine: Engine, limit: int = 25, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the tokens (newest first), and how many there are."""
    return engine.store.tokens_page(limit, offset)


def enable_user(engine: Engine, user_id: int) -> None:
    """A disabled user may sign in again (with the password they had)."""
    engine.store.change_user(user_id, enable=True)


def reset_password(engine: Engine, user_id: int, password: str) -> None:
    """A new password (checked for strength, kept as its hash); the user's sessions end."""
    weak = check_strength(password)
    if weak:
        raise InvalidInput(weak, field="password")
    engine.store.change_user(user_id, password_hash=hash_password(password))


def change_scope(engine: Engine, user_id: int, scope: Scope) -> None:
    """A new role and scope (checked by :func:`check_scope`); the user's sessions end."""
    engine.store.change_user(user_id, role=scope.role, **scope.as_kwargs())
