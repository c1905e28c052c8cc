"""The access log never holds what a user typed: a query value is logged only for parameters
that carry codes, ids, numbers or choices; every other value (search terms ``q``, weights,
unknown parameters) is logged as ``…``, and an unknown parameter's name too."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "…"
# Parameters whose values are logged as sent: enumerations, numbers, codes and record ids.
LOGGED = frozenset({
    "kind", "limit", "offset", "lang", "sort", "status", "region", "country", "category",
    "commodity", "language", "active", "min_score", "older_than_days", "need_id",
    "association_id", "partner_id", "page",
})
# Parameters whose names are known but whose values are text a user typed.
HIDDEN_VALUES = frozenset({"q", "weight"})


def redact_query(target: str) -> str:
    """``/needs?q=pit%20flood&limit=5`` -> ``/needs?q=…&limit=5`` (see :data:`LOGGED`)."""
    path, found, query = target.partition("?")
    if not found or not query:
        return target
    parts = []
    for pair in query.split("&"):
        name = unquote_plus(pair.partition("=")[0])
        if name in LOGGED:
            parts.append(pair)
        elif name in HIDDEN_VALUES:
            parts.append(f"{name}={HIDDEN}")
        elif pair:
            parts.append(HIDDEN)
    return f"{path}?{'&'.join(parts)}"


class RedactQueries(logging.Filter):
    """Rewrites the request target of every access-log record with :func:`redact_query`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) and "?" in a else a
                                for a in record.args)
        return True


def install_log_redaction() -> None:
    """Add :class:`RedactQueries` to uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQueries) for f in logger.filters):
        logger.addFilter(RedactQueries())
