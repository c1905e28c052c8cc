"""Password hashing for web sign-in: scrypt (stdlib) with a random salt per password.

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>``; the cost parameters travel with
the hash so they can be raised later without breaking older hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

N, R, P = 2**14, 8, 1  # about 16 MiB and a few tens of milliseconds per check
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 10
MAX_LENGTH = 1024  # scrypt reads the whole password: bound the work a request can ask for


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=2 * 128 * r * (n + p + 2), dklen=KEY_BYTES)


def check_strength(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    return "$".join(("scrypt", str(N), str(R), str(P), _b64(salt),
                     _b64(_scrypt(password, salt, N, R, P))))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``. With ``stored`` None (no such user) the same work
    is done against a dummy hash, so the answer takes as long either way. A malformed stored
    hash matches nothing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, key = (stored or _dummy()).split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        candidate = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r),
                            int(p))
    except ValueError:  # also binascii.Error
        return False
    return hmac.compare_digest(candidate, expected) and stored is not None


@lru_cache(maxsize=1)
def _dummy() -> str:
    """A hash to check against when there is no such user (made on first need)."""
    return hash_password(secrets.token_urlsafe(16))
