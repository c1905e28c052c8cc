"""Engine exceptions; the API turns them into HTTP responses in one handler."""


class MatcherError(Exception):
    """Base class for every error the engine reports to a user."""


class NotFound(MatcherError):
    """A record that was asked for does not exist."""


class Forbidden(MatcherError):
    """The caller is known but may not do this."""


class Conflict(MatcherError):
    """The request clashes with the record's current state (e.g. an invalid transition)."""


class NotReady(MatcherError):
    """The record exists but cannot be served yet (its text is being embedded): retry soon."""


class Unavailable(MatcherError):
    """The database cannot be reached now (it is down, or restarted and dropped the
    connection): nothing was done, retry soon."""


class InvalidInput(MatcherError):
    """Input that breaks the exchange format or a request's rules.

    ``record`` and ``field`` name where the problem is, when known.
    """

    def __init__(self, message: str, *, record: str | None = None, field: str | None = None):
        self.record = record
        self.field = field
        where = " ".join(part for part in (
            f"record {record!r}" if record else "",
            f"field {field!r}" if field else "",
        ) if part)
        super().__init__(f"{where}: {message}" if where else message)
