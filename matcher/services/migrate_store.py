"""`matcher migrate-store`: copy a whole database into another, empty one (SQLite to
PostgreSQL to move a deployment; SQLite to SQLite for a backup), all or nothing, the counts
of every table checked after (:mod:`matcher.store.copy`)."""

from __future__ import annotations

from pathlib import Path

from matcher.db_target import is_url
from matcher.store import Store
from matcher.store.copy import CopyRefused, CopyReport, Progress, copy_store


def _same(source: str | Path, target: str | Path) -> bool:
    if is_url(source) or is_url(target):
        return str(source) == str(target)
    return Path(source).resolve() == Path(target).resolve()


def migrate_store(source: str | Path, target: str | Path,
                  progress: Progress | None = None) -> CopyReport:
    """Copy every row of the database ``source`` into ``target`` (made and migrated to the
    newest schema when it is a new SQLite file; it must hold no data). Raises
    :class:`CopyRefused` with a one-line reason; then nothing is kept, and a SQLite file
    this call made is removed again."""
    if _same(source, target):
        raise CopyRefused("the source and the target are the same database")
    if not is_url(source) and not Path(source).is_file():
        raise CopyRefused(f"no database at {source}")
    made = None if is_url(target) or Path(target).exists() else Path(target)
    stores: list[Store] = []
    try:
        stores.append(Store(source))
        stores.append(Store(target))
        return copy_store(stores[0], stores[1], progress)
    except BaseException:
        for store in stores:
            store.close()
        stores = []
        if made is not None:
            for path in (made, made.with_name(made.name + "-wal"),
                         made.with_name(made.name + "-shm")):
                path.unlink(missing_ok=True)
        raise
    finally:
        for store in stores:
            store.close()
