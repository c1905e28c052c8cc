"""Whether a PostgreSQL database can be reached, and if not why, in one line that never
carries its password: what "the database exists" means for a URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa

from matcher.errors import Unavailable
from matcher.store.sql import create_engine

CONNECT_TIMEOUT = 10  # seconds; a URL without its own connect_timeout waits this long


def unreachable(url: str) -> str | None:
    """Why the database at ``url`` cannot be reached (one line), or None when it answers."""
    target = url if "connect_timeout=" in url else (
        url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT}")
    try:
        engine = create_engine(target)
    except (sa.exc.ArgumentError, ValueError) as exc:
        return _scrubbed(f"not a database URL ({type(exc).__name__})", url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.DBAPIError as exc:
        return _scrubbed(_first_line(exc.orig) or type(exc.orig).__name__, url)
    except Unavailable as exc:  # the driver's own words are its cause
        cause = exc.__cause__ or exc
        return _scrubbed(_first_line(cause) or type(cause).__name__, url)
    except Exception as exc:  # noqa: BLE001 - a bad URL fails in many ways; each one line
        return _scrubbed(_first_line(exc) or type(exc).__name__, url)
    finally:
        engine.dispose()
    return None


def _first_line(exc: BaseException | None) -> str:
    lines = [line.strip() for line in str(exc or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _scrubbed(reason: str, url: str) -> str:
    """``reason`` with any password of ``url`` taken out."""
    parts = urlsplit(url)
    secrets = {parts.password or ""} | {v for k, v in parse_qsl(parts.query)
                                        if k.lower() == "password"}
    for secret in secrets - {""}:
        reason = reason.replace(secret, "***").replace(unquote(secret), "***")
    return reason
