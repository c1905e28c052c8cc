"""What ``MATCHER_DB`` / ``--db`` names: a SQLite file (a path) or a PostgreSQL database (a
``postgresql://`` URL); how to show a URL without its password, and where a server keeps the
files of its own for a PostgreSQL database (lock files, corpus cache).

No SQL here and nothing heavy to import: the settings and the command line use it before any
store is opened.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return str(target).startswith(URL_SCHEMES)


def redacted(target: str | Path) -> str:
    """``target`` as it may be shown: a URL's password (in its user part or its
    ``password=`` parameter) replaced by ``***``; a path as it is."""
    text = str(target)
    if not is_url(text):
        return text
    scheme, _, rest = text.partition("://")
    place, mark, query = rest.partition("?")
    user, at, host = place.rpartition("@")  # the last @: a password may hold one unquoted
    if at and ":" in user:
        place = user.split(":", 1)[0] + ":***@" + host
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", query)
    return f"{scheme}://{place}{mark}{query}"


def database_name(url: str) -> str:
    """The database a URL names (its path, else its ``dbname`` parameter, else its user,
    as libpq defaults it), reduced to characters safe in a file name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or dict(parse_qsl(parts.query)).get("dbname", "") \
        or (parts.username or "postgres")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "postgres"


def state_key(url: str) -> str:
    """A folder name of its own for each database a URL reaches: the database's name and a
    digest of the URL without its password (so the key never carries the password, and one
    database reached under another password keeps its folder)."""
    parts = urlsplit(url)  # every scheme of URL_SCHEMES means the same: left out
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password")
    identity = repr((parts.username or "", parts.netloc.rpartition("@")[2], parts.path, query))
    return f"{database_name(url)}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def default_state_root() -> Path:
    """Where the per-database folders go by default: the user's cache folder
    (``$XDG_CACHE_HOME`` or ``~/.cache``) / ``delve-matcher``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "delve-matcher"
