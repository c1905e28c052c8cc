"""Numbered schema migrations, for SQLite and PostgreSQL alike. Never edit one after release:
add the next number.

Each migration is a function of a :class:`Schema` (the connection, alembic's operations over
it, and the few helpers below), run in its own transaction and recorded in the table
``_sqlite_migrations`` (the name, set and columns sqlite-utils' runner used, so databases it
migrated go on from where they are). Where the dialects differ, :mod:`matcher.store.dialect`
words it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from matcher.store import dialect
from matcher.store.sql import create_engine

TRACKER = "_sqlite_migrations"
# Column types as the migrations name them (Python's), in either dialect.
TYPES: dict[type, Callable[[], sa.types.TypeEngine]] = {
    str: sa.Text, int: sa.Integer, float: sa.Double, bytes: sa.LargeBinary}


class Schema:
    """What a migration changes the schema through: ``op`` (alembic's operations) and
    shorthands in the shapes of the tables' first migrations (columns as Python types)."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        # imported only when a migration runs: not on every process's start (0.1 s)
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext

        self.op = Operations(MigrationContext.configure(connection))

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.connection.execute(sa.text(sql), params or {})

    def script(self, statements: Iterable[str]) -> None:
        """Statements run as written (no parameters: ``:`` is not read as one)."""
        for statement in statements:
            self.connection.exec_driver_sql(statement)

    def has_table(self, table: str) -> bool:
        return sa.inspect(self.connection).has_table(table)

    def create(self, table: str, columns: dict[str, type], *, pk: str | Sequence[str] = "id",
               not_null: Iterable[str] = (), defaults: dict[str, Any] | None = None,
               foreign_keys: Iterable[tuple[str, ...]] = (),
               unique: Iterable[Sequence[str]] = ()) -> None:
        """A table: ``foreign_keys`` as (column, table, column[, on delete]); an integer
        ``id`` key is numbered by the database; defaults are SQL literals' values."""
        keys = [pk] if isinstance(pk, str) else list(pk)
        required, defaults = set(not_null), defaults or {}
        self.op.create_table(
            table,
            *(sa.Column(name, TYPES[kind](), primary_key=name in keys,
                        nullable=name not in required,
                        server_default=_default(defaults.get(name)))
              for name, kind in columns.items()),
            *dialect.row_order_columns(self.postgresql),
            *(sa.ForeignKeyConstraint([column], [f"{other}.{other_column}"],
                                      ondelete=rest[0] if rest else None)
              for column, other, other_column, *rest in foreign_keys),
            *(sa.UniqueConstraint(*names) for names in unique),
        )

    def add_column(self, table: str, name: str, kind: type,
                   not_null_default: Any = None) -> None:
        self.op.add_column(table, sa.Column(
            name, TYPES[kind](), nullable=not_null_default is None,
            server_default=_default(not_null_default)))

    def create_index(self, table: str, columns: Sequence[str], *, unique: bool = False,
                     name: str | None = None) -> None:
        """An index, named as sqlite-utils named them unless ``name`` is given."""
        self.op.create_index(name or f"idx_{table}_{'_'.join(columns)}", table, list(columns),
                             unique=unique)


def _default(value: Any) -> sa.TextClause | str | None:
    if value is None:
        return None
    return sa.text(str(value)) if isinstance(value, int | float) else str(value)


@dataclass
class Migration:
    name: str
    fn: Callable[[Schema], None]


class Migrations:
    """The numbered migrations of one set, and the runner that applies those pending."""

    def __init__(self, name: str):
        self.name = name
        self.all: list[Migration] = []

    def __call__(self, *, name: str) -> Callable:
        def register(fn: Callable[[Schema], None]) -> Callable[[Schema], None]:
            if any(m.name == name for m in self.all):
                raise ValueError(f"migration {name!r} is registered twice")
            self.all.append(Migration(name, fn))
            return fn
        return register

    def names(self) -> list[str]:
        return [m.name for m in self.all]

    def applied(self, target: Target) -> list[str]:
        """The names of this set's migrations that ``target`` records as applied."""
        with _connected(target) as connection:
            return self._applied(connection)

    def pending(self, target: Target) -> list[str]:
        """The names of this set's migrations that ``target`` has still to apply."""
        with _connected(target) as connection:
            return self._to_apply(connection, None)

    def apply(self, target: Target, *, stop_before: str | None = None) -> list[str]:
        """Apply the pending migrations in order (up to ``stop_before``, if named), each in a
        transaction with its record; the names applied. On PostgreSQL the whole run holds
        :data:`~matcher.store.dialect.MIGRATION_LOCK`: a second server waits, then finds
        nothing left to do. On SQLite each migration re-checks its record inside its
        ``BEGIN IMMEDIATE``, which does the same."""
        with _connected(target) as connection:
            if not self._to_apply(connection, stop_before):
                return []  # up to date: opened without taking any lock
            postgresql = connection.dialect.name == "postgresql"
            if postgresql:
                connection.exec_driver_sql(
                    f"SELECT pg_advisory_lock({dialect.MIGRATION_LOCK})")
            try:
                return self._apply(connection, postgresql, stop_before)
            finally:
                if postgresql:
                    connection.exec_driver_sql(
                        f"SELECT pg_advisory_unlock({dialect.MIGRATION_LOCK})")

    def _apply(self, connection: sa.Connection, postgresql: bool,
               stop_before: str | None) -> list[str]:
        begin = "BEGIN" if postgresql else "BEGIN IMMEDIATE"
        done: list[str] = []
        with _transaction(connection, begin):
            schema = Schema(connection)
            if not schema.has_table(TRACKER):
                schema.create(TRACKER, {"id": int, "migration_set": str, "name": str,
                                        "applied_at": str})
                schema.create_index(TRACKER, ["migration_set", "name"], unique=True)
        for migration in self.all:
            if migration.name == stop_before:
                break
            if migration.name in self._applied(connection):
                continue
            with _transaction(connection, begin):
                if migration.name in self._applied(connection):
                    continue  # another process applied it meanwhile
                migration.fn(Schema(connection))
                connection.execute(
                    sa.text(f'insert into "{TRACKER}" (migration_set, name, applied_at) '
                            "values (:set, :name, :at)"),
                    {"set": self.name, "name": migration.name,
                     "at": str(datetime.datetime.now(datetime.timezone.utc))})
            done.append(migration.name)
        return done

    def _to_apply(self, connection: sa.Connection, stop_before: str | None) -> list[str]:
        names = self.names()
        if stop_before in names:
            names = names[:names.index(stop_before)]
        done = set(self._applied(connection))
        return [name for name in names if name not in done]

    def _applied(self, connection: sa.Connection) -> list[str]:
        if not sa.inspect(connection).has_table(TRACKER):
            return []
        recorded = {name for (name,) in connection.execute(
            sa.text(f'select name from "{TRACKER}" where migration_set = :set'),
            {"set": self.name})}
        return [name for name in self.names() if name in recorded]


# A database to migrate: an engine or connection, a SQLite file or a PostgreSQL URL.
Target = sa.Engine | sa.Connection | str | Path


@contextmanager
def _connected(target: Target) -> Iterator[sa.Connection]:
    """A connection to ``target`` in autocommit mode (transactions are begun explicitly; a
    connection given must be in that mode already, as the store's are)."""
    if isinstance(target, sa.Connection):
        yield target
        return
    if not isinstance(target, sa.Engine | str | Path):
        raise TypeError(f"cannot migrate a {type(target).__name__}: give an engine, a "
                        "connection, a SQLite file or a PostgreSQL URL")
    engine = target if isinstance(target, sa.Engine) else create_engine(target)
    try:
        with engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
    finally:
        if engine is not target:
            engine.dispose()


@contextmanager
def _transaction(connection: sa.Connection, begin: str) -> Iterator[None]:
    connection.exec_driver_sql(begin)
    try:
        yield
    except BaseException:
        connection.exec_driver_sql("ROLLBACK")
        raise
    connection.exec_driver_sql("COMMIT")


migrations = Migrations("delve_matcher")


@migrations(name="m001_initial")
def m001_initial(db: Schema) -> None:
    db.create(
        "partners", {"id": str, "name": str, "type": str, "description": str, "languages": str},
        pk="id",
    )
    db.create(
        "offerings", {
            "id": str, "partner_id": str, "title": str, "description": str, "category": str,
            "regions": str, "countries": str, "languages": str, "commodities": str,
            "women_led_only": int, "min_members": int, "requires_formal_license": int,
            "capacity": int, "active": int, "position": int,
        },
        pk="id",
        foreign_keys=[("partner_id", "partners", "id")],
    )
    db.create(
        "associations", {
            "id": str, "name": str, "country": str, "region": str, "languages": str,
            "commodities": str, "members": int, "women_led": int, "formal_license": int,
            "description": str,
        },
        pk="id",
    )
    for table in ("needs", "practices"):
        db.create(
            table, {"id": str, "association_id": str, "text": str, "category": str, "position": int},
            pk="id",
            foreign_keys=[("association_id", "associations", "id")],
        )
        db.create_index(table, ["association_id"])
    db.create_index("offerings", ["partner_id"])
    db.create(
        "vectors", {"embedder": str, "content_hash": str, "dim": int, "vector": bytes},
        pk=("embedder", "content_hash"),
    )
    db.create("meta", {"key": str, "value": str}, pk="key")


@migrations(name="m002_service")
def m002_service(db: Schema) -> None:
    """Tokens, proposed matches and their audit trail; sensitive needs; contacts; validity."""
    db.add_column("needs", "sensitive", int)  # null: the default rule (sgbv is sensitive)
    db.add_column("offerings", "valid_until", str)  # ISO date; expired offerings are not suggested
    db.add_column("associations", "contact", str)  # JSON {name, phone, whatsapp, email}
    db.add_column("partners", "contact", str)
    db.create(
        "tokens", {"id": int, "token_hash": str, "role": str, "association_id": str, "partner_id": str,
         "regions": str, "label": str, "created_at": str, "revoked_at": str},
        pk="id", not_null={"token_hash", "role", "created_at"},
    )
    db.create_index("tokens", ["token_hash"], unique=True)
    db.create(
        "matches", {"id": int, "kind": str, "need_id": str, "association_id": str, "item_id": str,
         "owner_id": str, "status": str, "score": float, "reason": str, "note": str,
         "outcome": str, "created_at": str, "updated_at": str, "version": int},
        pk="id", not_null={"kind", "need_id", "association_id", "item_id", "owner_id", "status"},
        defaults={"version": 1},
    )
    db.create_index("matches", ["need_id", "kind", "item_id"], unique=True)
    db.create_index("matches", ["status"])
    db.create_index("matches", ["item_id", "status"])
    db.create(
        "audit", {"id": int, "match_id": int, "actor": str, "role": str, "at": str,
         "from_status": str, "to_status": str, "note": str},
        pk="id",
    )
    db.create_index("audit", ["match_id"])


@migrations(name="m004_matches")
def m004_matches(db: Schema) -> None:
    """The review workflow: a match's category, reasons and introduction time; the audit row's
    action, reject reason, outcome and acting organisation (for pseudonymisation)."""
    db.add_column("matches", "category", str)  # the need's category, given or inferred
    db.add_column("matches", "reasons", str)  # JSON list: why it was suggested, at proposal
    db.add_column("matches", "introduced_at", str)  # set when the association accepted
    db.add_column("audit", "action", str)  # propose, approve, reject, accept, decline, ...
    db.add_column("audit", "reason", str)
    db.add_column("audit", "outcome", str)
    db.add_column("audit", "actor_org", str)  # the acting association or partner id, if any
    db.create_index("audit", ["actor_org"])
    db.create_index("matches", ["association_id"])
    db.create_index("matches", ["owner_id"])
    db.create_index("matches", ["created_at"])


@migrations(name="m006_users")
def m006_users(db: Schema) -> None:
    """Web users (username + scrypt password hash, role and scope like tokens) and the web
    sessions signed in with a user or a token (stored by the hash of the cookie value)."""
    db.create(
        "users", {"id": int, "username": str, "password_hash": str, "role": str, "association_id": str,
         "partner_id": str, "regions": str, "created_at": str, "disabled_at": str},
        pk="id", not_null={"username", "password_hash", "role", "created_at"},
    )
    db.create_index("users", ["username"], unique=True)
    db.create(
        "web_sessions", {"session_hash": str, "user_id": int, "token_id": int, "created_at": str,
         "expires_at": str},
        pk="session_hash", not_null={"created_at", "expires_at"},
    )
    db.create_index("web_sessions", ["user_id"])
    db.create_index("web_sessions", ["token_id"])
    db.create_index("web_sessions", ["expires_at"])


@migrations(name="m007_vector_models")
def m007_vector_models(db: Schema) -> None:
    """Which model made each vector (an embedder's name can stay while its model changes: a
    new package version, another local directory). Rows of older databases have none, so
    their texts are embedded again once."""
    db.add_column("vectors", "model", str)


@migrations(name="m008_match_contributions")
def m008_match_contributions(db: Schema) -> None:
    """Each scorer's contribution to a match's score when it was proposed (JSON object), so
    that reviewers see the signals the proposal stood on, beside its score and reasons."""
    db.add_column("matches", "contributions", str)


@migrations(name="m009_match_reasons_by_language")
def m009_match_reasons_by_language(db: Schema) -> None:
    """A match's reasons in every page language (JSON object: language -> list), worded by
    the engine when it was proposed; ``reasons`` keeps the English ones."""
    db.add_column("matches", "reasons_by_language", str)


@migrations(name="m010_confidential_needs")
def m010_confidential_needs(db: Schema) -> None:
    """Sensitivity as a stored fact that only rises: ``needs.confidential`` (set when a need is
    flagged, given the sgbv topic or inferred to be about it; cleared only explicitly, with a
    row in ``need_audit``), and ``matches.redacted``, decided when a match is proposed (a need
    that becomes confidential later redacts its matches not yet introduced)."""
    db.add_column("needs", "confidential", int, not_null_default=0)
    db.add_column("matches", "redacted", int, not_null_default=0)
    db.execute("update needs set confidential = 1 where sensitive = 1 or "
               "(sensitive is null and category = 'sgbv')")
    db.execute("update matches set redacted = 1 where introduced_at is null and need_id in "
               "(select id from needs where confidential = 1)")
    db.create(
        "need_audit", {"id": int, "need_id": str, "association_id": str, "action": str, "actor": str,
         "actor_org": str, "role": str, "at": str, "note": str},
        pk="id", not_null={"need_id", "action", "actor", "at"},
    )
    db.create_index("need_audit", ["need_id"])
    db.create_index("need_audit", ["association_id"])


@migrations(name="m011_idempotency")
def m011_idempotency(db: Schema) -> None:
    """Creates made with an ``Idempotency-Key``: per caller and key, a fingerprint of the
    request (never its body) and the record it created, so that a retry returns that record
    instead of creating another."""
    db.create(
        "idempotency", {"owner": str, "key": str, "fingerprint": str, "record_table": str, "record_id": str,
         "created_at": str},
        pk=("owner", "key"), not_null={"fingerprint", "record_table", "record_id", "created_at"},
    )


@migrations(name="m012_strength_and_unserved_needs")
def m012_strength_and_unserved_needs(db: Schema) -> None:
    """A match's calibrated strength when it was proposed (0..1, and its word: strong, good,
    possible, weak), shown instead of the list-relative score; and the needs whose last
    suggestions of a kind had none at least ``good`` (``unserved_needs``: the coordinators'
    list of partners to recruit), gone with the need."""
    db.add_column("matches", "strength", float)
    db.add_column("matches", "strength_label", str)
    db.create("unserved_needs",
              {"need_id": str, "kind": str, "best_strength": float, "since": str,
               "checked_at": str},
              pk=("need_id", "kind"), not_null={"need_id", "kind", "since", "checked_at"},
              foreign_keys=[("need_id", "needs", "id", "CASCADE")])


@migrations(name="m013_learning")
def m013_learning(db: Schema) -> None:
    """What the fusion learns from coordinators and associations: the suggestions an
    association marked "not interested" (each a label, and never suggested again for that
    need), and the fusion models ``matcher train`` fitted, with their date, their size and
    the decisions they saw."""
    db.create(
        "not_interested", {"id": int, "need_id": str, "association_id": str, "kind": str, "item_id": str,
         "actor": str, "actor_org": str, "role": str, "at": str},
        pk="id", not_null={"need_id", "association_id", "kind", "item_id", "at"},
    )
    db.create_index("not_interested", ["need_id", "kind", "item_id"], unique=True)
    db.create_index("not_interested", ["association_id"])
    db.create_index("not_interested", ["item_id"])
    db.create(
        "fusion_models", {"id": int, "trained_at": str, "decisions": int, "size": int, "model": str,
         "seen": str},
        pk="id", not_null={"trained_at", "decisions", "size", "model"},
    )


@migrations(name="m015_notifications")
def m015_notifications(db: Schema) -> None:
    """Notifications and their e-mail outbox. A notification is addressed to an audience
    (``association:<id>``, ``partner:<id>`` or ``region:<code>``, the region's coordinators),
    carries its event and the values its text is worded from (never a need's text), and is
    read per reader (``user:<name>`` or ``token:<id>``). Preferences switch an event off on a
    channel for one subscriber (an organisation, or a coordinator's user). The outbox holds one
    e-mail per row with its own Message-ID, sent at least once; users get an e-mail address
    and a language for what they are sent."""
    db.create(
        "notifications", {"id": int, "audience": str, "event": str, "match_id": int, "params": str,
         "created_at": str},
        pk="id", not_null={"audience", "event", "params", "created_at"},
    )
    db.create_index("notifications", ["audience", "id"])
    db.create_index("notifications", ["event", "match_id"])
    db.create(
        "notification_reads", {"notification_id": int, "reader": str, "read_at": str},
        pk=("notification_id", "reader"), not_null={"read_at"},
        foreign_keys=[("notification_id", "notifications", "id")],
    )
    db.create(
        "notification_prefs", {"subscriber": str, "event": str, "channel": str, "enabled": int},
        pk=("subscriber", "event", "channel"), not_null={"enabled"},
    )
    db.create(
        "outbox", {"id": int, "message_id": str, "notification_id": int, "event": str, "recipient": str,
         "language": str, "subject": str, "body": str, "created_at": str, "attempts": int,
         "next_attempt_at": str, "last_error": str, "sent_at": str},
        pk="id", not_null={"message_id", "event", "recipient", "language", "subject", "body",
                           "created_at", "attempts", "next_attempt_at"},
        defaults={"attempts": 0},
    )
    db.create_index("outbox", ["message_id"], unique=True)
    db.create_index("outbox", ["sent_at", "next_attempt_at"])
    db.add_column("users", "email", str)
    db.add_column("users", "language", str)


@migrations(name="m016_rounds")
def m016_rounds(db: Schema) -> None:
    """Match rounds: who ran one, over which regions, with what result; each proposal of a
    round carries its ``round_id``, so the round can be reviewed as one. A match a partner
    offered (rather than one suggested to the association) says so in ``offered_by``."""
    db.create(
        "rounds", {"id": int, "created_at": str, "actor": str, "role": str, "actor_org": str,
         "regions": str, "per_need": int, "report": str},
        pk="id", not_null={"created_at", "actor", "role", "regions", "per_need", "report"},
    )
    db.add_column("matches", "round_id", int)
    db.create_index("matches", ["round_id"])
    db.add_column("matches", "offered_by", str)  # "partner": a partner offered its help


# The free-text columns searched by ``q`` on the lists, per table (FTS5, accents folded).
SEARCH_COLUMNS = {"associations": ("name", "description"), "partners": ("name", "description"),
                  "offerings": ("title", "description"), "needs": ("text",),
                  "practices": ("text",)}
SEARCH_TOKENIZER = "unicode61 remove_diacritics 2"


@migrations(name="m018_search")
def m018_search(db: Schema) -> None:
    """Full-text search over the profiles' free texts: one FTS5 index per table
    (``needs_fts``...), its words case- and accent-folded in every language ("credito" finds
    "crédito"), filled from the rows there are and kept up to date by triggers. Each index
    is replaced whole when run again, so a migration stopped half-way is safe to rerun (it
    ran outside a transaction under sqlite-utils; it runs in one now). PostgreSQL: the
    unaccent extension, the folding functions and a GIN index per table
    (:func:`matcher.store.dialect.create_search`)."""
    schemas: tuple[str, str] = ("", "")
    if db.postgresql:
        db.script(["CREATE EXTENSION IF NOT EXISTS unaccent"])
        schemas = db.connection.exec_driver_sql(
            "SELECT n.nspname, current_schema() FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'").one()
    db.script(dialect.search_functions(db.postgresql, *schemas))
    for table, columns in SEARCH_COLUMNS.items():
        db.script(dialect.create_search(db.postgresql, table, columns, SEARCH_TOKENIZER))


@migrations(name="m019_partner_answers_and_comments")
def m019_partner_answers_and_comments(db: Schema) -> None:
    """A partner's answer to a match on its offering (accepted or declined, a decline's
    reason, when), kept beside the status; and each match's comment thread (who, in which
    role and organisation, when, what), append-only."""
    db.add_column("matches", "partner_answer", str)
    db.add_column("matches", "partner_reason", str)
    db.add_column("matches", "partner_answered_at", str)
    db.create(
        "match_comments", {"id": int, "match_id": int, "at": str, "actor": str, "role": str, "actor_org": str,
         "body": str},
        pk="id", not_null={"match_id", "at", "actor", "role", "body"},
    )
    db.create_index("match_comments", ["match_id"])


@migrations(name="m020_lessons")
def m020_lessons(db: Schema) -> None:
    """What each exchange taught: one lesson per match and side (``association``, its
    ``counterpart`` - the offering's partner or the peer association - and ``coordinator``),
    with its text, whether it worked, its figures (JSON object of named numbers), its
    language, whether it is published, and, once promoted, the practice it became. The
    match's association, region, topic and confidentiality are kept on the row, so a lesson
    is listed and kept confidential without reading the need; ``item_id`` (with ``kind``)
    is the offering or practice the exchange was about. Its own audit (who, role,
    action, when; never the text), and an FTS5 index over the text (as m018's). Each step is
    safe to run again (it ran outside a transaction under sqlite-utils; it runs in one now)."""
    if not db.has_table("lessons"):
        db.create("lessons",
                  {"id": int, "match_id": int, "side": str, "association_id": str,
                   "owner_id": str, "kind": str, "item_id": str, "region": str,
                   "category": str, "sensitive": int, "text": str, "worked": int,
                   "figures": str, "language": str, "published": int,
                   "promoted_practice_id": str, "actor": str, "role": str, "actor_org": str,
                   "created_at": str, "updated_at": str},
                  not_null={"match_id", "side", "association_id", "sensitive", "text",
                            "worked", "figures", "language", "published", "actor", "role",
                            "created_at", "updated_at"},
                  defaults={"sensitive": 0, "figures": "{}", "published": 0},
                  foreign_keys=[("match_id", "matches", "id", "CASCADE")],
                  unique=[("match_id", "side")])
        db.create_index("lessons", ["association_id"], name="lessons_association")
        db.create_index("lessons", ["owner_id"], name="lessons_owner")
        db.create_index("lessons", ["kind", "item_id"], name="lessons_item")
    if not db.has_table("lesson_audit"):
        db.create("lesson_audit",
                  {"id": int, "lesson_id": int, "match_id": int, "association_id": str,
                   "action": str, "actor": str, "actor_org": str, "role": str, "at": str},
                  not_null={"lesson_id", "match_id", "action", "actor", "role", "at"},
                  foreign_keys=[("lesson_id", "lessons", "id", "CASCADE")])
        db.create_index("lesson_audit", ["lesson_id"], name="lesson_audit_lesson")
    db.script(dialect.create_search(db.postgresql, "lessons", ("text",), SEARCH_TOKENIZER))


# The triggers that count each change of what matches' outcomes say, so that the engine
# refreshes the per-item evidence it keeps (matcher.store.matches.item_evidence) without
# rebuilding its corpus. A table that adds evidence later (lessons) adds its own triggers.
_EVIDENCE_BUMP = ("update meta set value = cast(value as integer) + 1 "
                  "where key = 'evidence_version';")


@migrations(name="m021_evidence_version")
def m021_evidence_version(db: Schema) -> None:
    """``meta.evidence_version``: a counter raised by triggers whenever a match's outcome is
    recorded, changed or deleted (with its match), read by the engine to refresh the evidence
    of past exchanges it ranks with."""
    db.execute("insert into meta (key, value) values ('evidence_version', '0') "
               "on conflict (key) do nothing")
    for name, event, when in (
            ("matches_evidence_insert", "insert", "new.outcome is not null"),
            ("matches_evidence_update", "update of outcome",
             "old.outcome is distinct from new.outcome"),
            ("matches_evidence_delete", "delete", "old.outcome is not null")):
        db.script(dialect.row_trigger(db.postgresql, name, event, "matches", _EVIDENCE_BUMP,
                                      when))


@migrations(name="m024_lesson_evidence")
def m024_lesson_evidence(db: Schema) -> None:
    """A lesson saying whether an exchange worked is evidence about its offering or practice
    (``matcher.store.matches.item_evidence``): writing, changing or removing one raises
    ``evidence_version`` as a match's outcome does (m021)."""
    for name, event, when in (
            ("lessons_evidence_insert", "insert", None),
            ("lessons_evidence_update", "update of worked",
             "old.worked is distinct from new.worked"),
            ("lessons_evidence_delete", "delete", None)):
        db.script(dialect.row_trigger(db.postgresql, name, event, "lessons", _EVIDENCE_BUMP,
                                      when))


# The tables the corpus is built from (matcher.ranking.engine): every write to one of their
# rows is logged in corpus_changes by these triggers.
CORPUS_TABLES = ("partners", "offerings", "associations", "needs", "practices")


@migrations(name="m025_corpus_changes")
def m025_corpus_changes(db: Schema) -> None:
    """``corpus_changes``: which records were written, in order, so that the engine brings
    its corpus up to date by reading those records only (``matcher.ranking.engine``).
    Triggers log each insert, update and delete of a profile record as (table, id); each new
    data version logs ``('version', its data token)`` after them, which marks where a corpus
    built at that token stands. The store keeps the newest rows (``Store.corpus_changes``)."""
    if not db.has_table("corpus_changes"):
        db.create("corpus_changes", {"id": int, "tbl": str, "record_id": str},
                  not_null={"tbl", "record_id"})
        db.create_index("corpus_changes", ["record_id"], name="corpus_changes_record")
    for table in CORPUS_TABLES:
        for event, row in (("insert", "new"), ("update", "new"), ("delete", "old")):
            db.script(dialect.row_trigger(
                db.postgresql, f"{table}_change_{event}", event, table,
                f"insert into corpus_changes (tbl, record_id) values ('{table}', {row}.id);"))


@migrations(name="m026_vectors_known")
def m026_vectors_known(db: Schema) -> None:
    """An index that answers which texts an embedder's model has embedded (``known_hashes``)
    without reading the vectors themselves: ``/health`` counts the texts still to embed, and
    at 100,000 records a scan of the vectors read the whole table (1.4 GB) to do it."""
    db.create_index("vectors", ["embedder", "model", "dim", "content_hash"],
                    name="vectors_known")


@migrations(name="m027_idempotency_expiry")
def m027_idempotency_expiry(db: Schema) -> None:
    """An index on when each idempotency key was made: keys expire (see
    :mod:`matcher.store.idempotency`), and each create under a key removes the expired ones."""
    db.create_index("idempotency", ["created_at"], name="idempotency_created_at")
