"""The store: the one place that talks SQL (SQLAlchemy Core over SQLite or PostgreSQL).

Split by subject into mixins over one database (a connection per thread); ``Store``
combines them.
"""

from matcher.store.base import BaseStore
from matcher.store.dashboard import DashboardMixin
from matcher.store.idempotency import Claim
from matcher.store.learning import LearningMixin
from matcher.store.lessons import LessonQuery, LessonsMixin
from matcher.store.matches import MatchesMixin
from matcher.store.notifications import Mail, NotificationsMixin
from matcher.store.profiles import ImportReport, ProfilesMixin
from matcher.store.rights import DeletionReport, RightsMixin
from matcher.store.rounds import RoundsMixin
from matcher.store.tokens import AuthMixin
from matcher.store.users import UsersMixin
from matcher.store.vectors import Vector


class Store(ProfilesMixin, AuthMixin, RoundsMixin, MatchesMixin, DashboardMixin, UsersMixin,
            RightsMixin, LearningMixin, LessonsMixin, NotificationsMixin, BaseStore):
    # ProfilesMixin brings VectorsMixin and IdempotencyMixin (MatchesMixin the latter too).
    """A SQLite database of the exchange; open it with ``Store(path)`` (migrates on open)."""


__all__ = ["Store", "LessonQuery", "ImportReport", "DeletionReport", "Claim", "Vector", "Mail"]
