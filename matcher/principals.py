"""Who is asking: roles, scopes and API tokens (stored hashed, never in clear)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import Enum

TOKEN_PREFIX = "dm_"


class Role(str, Enum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ASSOCIATION = "association"
    PARTNER = "partner"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller and the scope it may act in."""

    role: Role
    association_id: str | None = None
    partner_id: str | None = None
    regions: frozenset[str] = field(default_factory=frozenset)
    token_id: int | None = None
    label: str = ""

    @property
    def actor(self) -> str:
        """How the audit trail names this caller: its token, or the web user signed in with a
        password (``user:<name>``), then its role and scope."""
        scope = self.association_id or self.partner_id or ",".join(sorted(self.regions))
        who = (f"user:{self.label[5:]}" if self.token_id is None
               and self.label.startswith("user ") else f"token:{self.token_id}")
        return who + (f" ({self.role.value} {scope})" if scope else f" ({self.role.value})")

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def covers_region(self, region: str | None) -> bool:
        """Admins everywhere; coordinators in their regions; nobody else by region."""
        return self.is_admin or (self.role is Role.COORDINATOR and region in self.regions)


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256 (tokens are random, so no salt or stretching)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively: stored and looked up in lower case."""
    return username.strip().lower()
