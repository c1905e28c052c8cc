"""The store: the one place that talks SQL (SQLite through sqlite-utils).

Split by subject into mixins over one connection; ``Store`` combines them.
"""

from matcher.store.base import BaseStore
from matcher.store.profiles import ImportReport, ProfilesMixin
from matcher.store.vectors import VectorsMixin


class Store(ProfilesMixin, VectorsMixin, BaseStore):
    """A SQLite database of the exchange; open it with ``Store(path)`` (migrates on open)."""


__all__ = ["Store", "ImportReport"]
