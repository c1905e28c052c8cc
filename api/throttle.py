"""Failed-authentication throttling: guesses are slowed down, valid credentials never refused.

One address may be a whole town behind carrier-grade NAT, so a throttle keyed by address must
never refuse a valid credential, only the failing guesses:

- A token is checked first (one hash lookup). A valid one is always accepted. An invalid one
  counts against the caller's address; once the address has ``FAILURE_LIMIT`` failures in
  ``FAILURE_WINDOW`` seconds, invalid tokens get 429 instead of 401. Tokens are 256-bit
  random, so this is hygiene rather than what stops a guesser.
- A password is the guessable secret, so failures also count against the username, whatever the
  address. Once a username is over the limit, attempts at it are refused with 429 without being
  checked, except from a browser that holds that user's device cookie (given at each successful
  password sign-in): its own failures are counted instead, so the real user on her own browser
  is not locked out by an attack on her account. From an address over the limit, a password is
  still checked: the right one signs in, a wrong one gets 429.

The caller's address is the connection's peer, or what a configured trusted proxy forwarded
(``MATCHER_TRUSTED_PROXIES``, see :mod:`api.proxies`). Counts live in the process; with
several worker processes (``matcher serve --workers N``) each allows ``FAILURE_LIMIT // N``.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Request

from matcher.principals import normalise_username

FAILURE_LIMIT = 20
FAILURE_WINDOW = 60.0
_PRUNE_AT = 10_000  # keys on record before expired ones are swept out

_failures: dict[str, deque[float]] = {}
_lock = threading.Lock()
_limit = FAILURE_LIMIT  # this process's share of FAILURE_LIMIT (see share_among)


def share_among(processes: int) -> None:
    """Serve ``processes`` worker processes: counts live in each process, and a caller's
    connections may reach any of them, so each allows its share of ``FAILURE_LIMIT`` (the
    whole server never allows more than the limit, whichever worker a guess reaches)."""
    global _limit
    _limit = max(1, FAILURE_LIMIT // max(1, processes))


def limit() -> int:
    """Failures in the window after which this process refuses (429)."""
    return _limit


def address_key(host: str) -> str:
    return f"address:{host}"


def username_key(username: str) -> str:
    return f"user:{normalise_username(username)}"


def device_key(device_id: str) -> str:
    return f"device:{device_id}"


def client_key(request: Request) -> str:
    """The throttle key of the caller's address (as the proxy settings let the app see it)."""
    return address_key(request.client.host if request.client else "unknown")


def _recent(key: str, now: float) -> int:
    times = _failures.get(key)
    if times is None:
        return 0
    while times and now - times[0] > FAILURE_WINDOW:
        times.popleft()
    if not times:
        del _failures[key]
        return 0
    return len(times)


def failures_of(key: str) -> int:
    """Failures recorded against ``key`` in the current window."""
    with _lock:
        return _recent(key, time.monotonic())


def over_limit(key: str) -> bool:
    """Whether ``key`` has reached this process's share of ``FAILURE_LIMIT`` failures in the
    window (all of it with one worker process)."""
    return failures_of(key) >= _limit


def record_failure(*keys: str) -> None:
    """Count one failed authentication against each of ``keys``."""
    now = time.monotonic()
    with _lock:
        if len(_failures) >= _PRUNE_AT:
            for key in list(_failures):
                _recent(key, now)
        for key in keys:
            _failures.setdefault(key, deque(maxlen=FAILURE_LIMIT)).append(now)


def token_failed(request: Request) -> bool:
    """Count an invalid token from the caller, unless its address is already throttled: then
    True (answer 429, nothing counted or checked further)."""
    key = client_key(request)
    if over_limit(key):
        return True
    record_failure(key)
    return False


def reset_failures() -> None:
    with _lock:
        _failures.clear()
