"""Numbered schema migrations. Never edit one after release: add the next number."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("delve_matcher")


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    db["partners"].create(
        {"id": str, "name": str, "type": str, "description": str, "languages": str},
        pk="id",
    )
    db["offerings"].create(
        {
            "id": str, "partner_id": str, "title": str, "description": str, "category": str,
            "regions": str, "countries": str, "languages": str, "commodities": str,
            "women_led_only": int, "min_members": int, "requires_formal_license": int,
            "capacity": int, "active": int, "position": int,
        },
        pk="id",
        foreign_keys=[("partner_id", "partners", "id")],
    )
    db["associations"].create(
        {
            "id": str, "name": str, "country": str, "region": str, "languages": str,
            "commodities": str, "members": int, "women_led": int, "formal_license": int,
            "description": str,
        },
        pk="id",
    )
    for table in ("needs", "practices"):
        db[table].create(
            {"id": str, "association_id": str, "text": str, "category": str, "position": int},
            pk="id",
            foreign_keys=[("association_id", "associations", "id")],
        )
        db[table].create_index(["association_id"])
    db["offerings"].create_index(["partner_id"])
    db["vectors"].create(
        {"embedder": str, "content_hash": str, "dim": int, "vector": bytes},
        pk=("embedder", "content_hash"),
    )
    db["meta"].create({"key": str, "value": str}, pk="key")


@migrations(name="m002_service")
def m002_service(db: Database) -> None:
    """Tokens, proposed matches and their audit trail; sensitive needs; contacts; validity."""
    db["needs"].add_column("sensitive", int)  # null: the default rule (sgbv is sensitive)
    db["offerings"].add_column("valid_until", str)  # ISO date; expired offerings are not suggested
    db["associations"].add_column("contact", str)  # JSON {name, phone, whatsapp, email}
    db["partners"].add_column("contact", str)
    db["tokens"].create(
        {"id": int, "token_hash": str, "role": str, "association_id": str, "partner_id": str,
         "regions": str, "label": str, "created_at": str, "revoked_at": str},
        pk="id", not_null={"token_hash", "role", "created_at"},
    )
    db["tokens"].create_index(["token_hash"], unique=True)
    db["matches"].create(
        {"id": int, "kind": str, "need_id": str, "association_id": str, "item_id": str,
         "owner_id": str, "status": str, "score": float, "reason": str, "note": str,
         "outcome": str, "created_at": str, "updated_at": str, "version": int},
        pk="id", not_null={"kind", "need_id", "association_id", "item_id", "owner_id", "status"},
        defaults={"version": 1},
    )
    db["matches"].create_index(["need_id", "kind", "item_id"], unique=True)
    db["matches"].create_index(["status"])
    db["matches"].create_index(["item_id", "status"])
    db["audit"].create(
        {"id": int, "match_id": int, "actor": str, "role": str, "at": str,
         "from_status": str, "to_status": str, "note": str},
        pk="id",
    )
    db["audit"].create_index(["match_id"])


@migrations(name="m004_matches")
def m004_matches(db: Database) -> None:
    """The review workflow: a match's category, reasons and introduction time; the audit row's
    action, reject reason, outcome and acting organisation (for pseudonymisation)."""
    db["matches"].add_column("category", str)  # the need's category, given or inferred
    db["matches"].add_column("reasons", str)  # JSON list: why it was suggested, at proposal
    db["matches"].add_column("introduced_at", str)  # set when the association accepted
    db["audit"].add_column("action", str)  # propose, approve, reject, accept, decline, ...
    db["audit"].add_column("reason", str)
    db["audit"].add_column("outcome", str)
    db["audit"].add_column("actor_org", str)  # the acting association or partner id, if any
    db["audit"].create_index(["actor_org"])
    db["matches"].create_index(["association_id"])
    db["matches"].create_index(["owner_id"])
    db["matches"].create_index(["created_at"])


@migrations(name="m006_users")
def m006_users(db: Database) -> None:
    """Web users (username + scrypt password hash, role and scope like tokens) and the web
    sessions signed in with a user or a token (stored by the hash of the cookie value)."""
    db["users"].create(
        {"id": int, "username": str, "password_hash": str, "role": str, "association_id": str,
         "partner_id": str, "regions": str, "created_at": str, "disabled_at": str},
        pk="id", not_null={"username", "password_hash", "role", "created_at"},
    )
    db["users"].create_index(["username"], unique=True)
    db["web_sessions"].create(
        {"session_hash": str, "user_id": int, "token_id": int, "created_at": str,
         "expires_at": str},
        pk="session_hash", not_null={"created_at", "expires_at"},
    )
    db["web_sessions"].create_index(["user_id"])
    db["web_sessions"].create_index(["token_id"])
    db["web_sessions"].create_index(["expires_at"])


@migrations(name="m007_vector_models")
def m007_vector_models(db: Database) -> None:
    """Which model made each vector (an embedder's name can stay while its model changes: a
    new package version, another local directory). Rows of older databases have none, so
    their texts are embedded again once."""
    db["vectors"].add_column("model", str)


@migrations(name="m008_match_contributions")
def m008_match_contributions(db: Database) -> None:
    """Each scorer's contribution to a match's score when it was proposed (JSON object), so
    that reviewers see the signals the proposal stood on, beside its score and reasons."""
    db["matches"].add_column("contributions", str)


@migrations(name="m009_match_reasons_by_language")
def m009_match_reasons_by_language(db: Database) -> None:
    """A match's reasons in every page language (JSON object: language -> list), worded by
    the engine when it was proposed; ``reasons`` keeps the English ones."""
    db["matches"].add_column("reasons_by_language", str)


@migrations(name="m010_confidential_needs")
def m010_confidential_needs(db: Database) -> None:
    """Sensitivity as a stored fact that only rises: ``needs.confidential`` (set when a need is
    flagged, given the sgbv topic or inferred to be about it; cleared only explicitly, with a
    row in ``need_audit``), and ``matches.redacted``, decided when a match is proposed (a need
    that becomes confidential later redacts its matches not yet introduced)."""
    db["needs"].add_column("confidential", int, not_null_default=0)
    db["matches"].add_column("redacted", int, not_null_default=0)
    db.execute("update needs set confidential = 1 where sensitive = 1 or "
               "(sensitive is null and category = 'sgbv')")
    db.execute("update matches set redacted = 1 where introduced_at is null and need_id in "
               "(select id from needs where confidential = 1)")
    db["need_audit"].create(
        {"id": int, "need_id": str, "association_id": str, "action": str, "actor": str,
         "actor_org": str, "role": str, "at": str, "note": str},
        pk="id", not_null={"need_id", "action", "actor", "at"},
    )
    db["need_audit"].create_index(["need_id"])
    db["need_audit"].create_index(["association_id"])


@migrations(name="m011_idempotency")
def m011_idempotency(db: Database) -> None:
    """Creates made with an ``Idempotency-Key``: per caller and key, a fingerprint of the
    request (never its body) and the record it created, so that a retry returns that record
    instead of creating another."""
    db["idempotency"].create(
        {"owner": str, "key": str, "fingerprint": str, "record_table": str, "record_id": str,
         "created_at": str},
        pk=("owner", "key"), not_null={"fingerprint", "record_table", "record_id", "created_at"},
    )


@migrations(name="m012_strength_and_unserved_needs")
def m012_strength_and_unserved_needs(db: Database) -> None:
    """A match's calibrated strength when it was proposed (0..1, and its word: strong, good,
    possible, weak), shown instead of the list-relative score; and the needs whose last
    suggestions of a kind had none at least ``good`` (``unserved_needs``: the coordinators'
    list of partners to recruit), gone with the need."""
    db["matches"].add_column("strength", float)
    db["matches"].add_column("strength_label", str)
    db.execute(
        "create table unserved_needs (need_id text not null references needs(id) "
        "on delete cascade, kind text not null, best_strength float, since text not null, "
        "checked_at text not null, primary key (need_id, kind))")


@migrations(name="m013_learning")
def m013_learning(db: Database) -> None:
    """What the fusion learns from coordinators and associations: the suggestions an
    association marked "not interested" (each a label, and never suggested again for that
    need), and the fusion models ``matcher train`` fitted, with their date, their size and
    the decisions they saw."""
    db["not_interested"].create(
        {"id": int, "need_id": str, "association_id": str, "kind": str, "item_id": str,
         "actor": str, "actor_org": str, "role": str, "at": str},
        pk="id", not_null={"need_id", "association_id", "kind", "item_id", "at"},
    )
    db["not_interested"].create_index(["need_id", "kind", "item_id"], unique=True)
    db["not_interested"].create_index(["association_id"])
    db["not_interested"].create_index(["item_id"])
    db["fusion_models"].create(
        {"id": int, "trained_at": str, "decisions": int, "size": int, "model": str,
         "seen": str},
        pk="id", not_null={"trained_at", "decisions", "size", "model"},
    )


@migrations(name="m015_notifications")
def m015_notifications(db: Database) -> None:
    """Notifications and their e-mail outbox. A notification is addressed to an audience
    (``association:<id>``, ``partner:<id>`` or ``region:<code>``, the region's coordinators),
    carries its event and the values its text is worded from (never a need's text), and is
    read per reader (``user:<name>`` or ``token:<id>``). Preferences switch an event off on a
    channel for one subscriber (an organisation, or a coordinator's user). The outbox holds one
    e-mail per row with its own Message-ID, sent at least once; users get an e-mail address
    and a language for what they are sent."""
    db["notifications"].create(
        {"id": int, "audience": str, "event": str, "match_id": int, "params": str,
         "created_at": str},
        pk="id", not_null={"audience", "event", "params", "created_at"},
    )
    db["notifications"].create_index(["audience", "id"])
    db["notifications"].create_index(["event", "match_id"])
    db["notification_reads"].create(
        {"notification_id": int, "reader": str, "read_at": str},
        pk=("notification_id", "reader"), not_null={"read_at"},
        foreign_keys=[("notification_id", "notifications", "id")],
    )
    db["notification_prefs"].create(
        {"subscriber": str, "event": str, "channel": str, "enabled": int},
        pk=("subscriber", "event", "channel"), not_null={"enabled"},
    )
    db["outbox"].create(
        {"id": int, "message_id": str, "notification_id": int, "event": str, "recipient": str,
         "language": str, "subject": str, "body": str, "created_at": str, "attempts": int,
         "next_attempt_at": str, "last_error": str, "sent_at": str},
        pk="id", not_null={"message_id", "event", "recipient", "language", "subject", "body",
                           "created_at", "attempts", "next_attempt_at"},
        defaults={"attempts": 0},
    )
    db["outbox"].create_index(["message_id"], unique=True)
    db["outbox"].create_index(["sent_at", "next_attempt_at"])
    db["users"].add_column("email", str)
    db["users"].add_column("language", str)


@migrations(name="m016_rounds")
def m016_rounds(db: Database) -> None:
    """Match rounds: who ran one, over which regions, with what result; each proposal of a
    round carries its ``round_id``, so the round can be reviewed as one. A match a partner
    offered (rather than one suggested to the association) says so in ``offered_by``."""
    db["rounds"].create(
        {"id": int, "created_at": str, "actor": str, "role": str, "actor_org": str,
         "regions": str, "per_need": int, "report": str},
        pk="id", not_null={"created_at", "actor", "role", "regions", "per_need", "report"},
    )
    db["matches"].add_column("round_id", int)
    db["matches"].create_index(["round_id"])
    db["matches"].add_column("offered_by", str)  # "partner": a partner offered its help


# The free-text columns searched by ``q`` on the lists, per table (FTS5, accents folded).
SEARCH_COLUMNS = {"associations": ("name", "description"), "partners": ("name", "description"),
                  "offerings": ("title", "description"), "needs": ("text",),
                  "practices": ("text",)}
SEARCH_TOKENIZER = "unicode61 remove_diacritics 2"


@migrations(name="m018_search", transactional=False)
def m018_search(db: Database) -> None:
    """Full-text search over the profiles' free texts: one FTS5 index per table
    (``needs_fts``...), its words case- and accent-folded in every language ("credito" finds
    "crédito"), filled from the rows there are and kept up to date by triggers. Outside a
    transaction (sqlite-utils creates them with ``executescript``, which commits); each
    index is replaced whole when run again, so a migration stopped half-way is safe to rerun."""
    for table, columns in SEARCH_COLUMNS.items():
        db[table].enable_fts(columns, tokenize=SEARCH_TOKENIZER, create_triggers=True,
                             replace=True)


@migrations(name="m019_partner_answers_and_comments")
def m019_partner_answers_and_comments(db: Database) -> None:
    """A partner's answer to a match on its offering (accepted or declined, a decline's
    reason, when), kept beside the status; and each match's comment thread (who, in which
    role and organisation, when, what), append-only."""
    db["matches"].add_column("partner_answer", str)
    db["matches"].add_column("partner_reason", str)
    db["matches"].add_column("partner_answered_at", str)
    db["match_comments"].create(
        {"id": int, "match_id": int, "at": str, "actor": str, "role": str, "actor_org": str,
         "body": str},
        pk="id", not_null={"match_id", "at", "actor", "role", "body"},
    )
    db["match_comments"].create_index(["match_id"])


@migrations(name="m020_lessons", transactional=False)
def m020_lessons(db: Database) -> None:
    """What each exchange taught: one lesson per match and side (``association``, its
    ``counterpart`` - the offering's partner or the peer association - and ``coordinator``),
    with its text, whether it worked, its figures (JSON object of named numbers), its
    language, whether it is published, and, once promoted, the practice it became. The
    match's association, region, topic and confidentiality are kept on the row, so a lesson
    is listed and kept confidential without reading the need; ``item_id`` (with ``kind``)
    is the offering or practice the exchange was about. Its own audit (who, role,
    action, when; never the text), and an FTS5 index over the text (as m018's). Outside a
    transaction, as m018 (FTS5 triggers); each statement is safe to run again."""
    db.executescript(
        "create table if not exists lessons (id integer primary key, "
        "match_id integer not null references matches(id) on delete cascade, "
        "side text not null, association_id text not null, owner_id text, kind text, "
        "item_id text, "
        "region text, category text, sensitive integer not null default 0, text text not null, "
        "worked integer not null, figures text not null default '{}', language text not null, "
        "published integer not null default 0, promoted_practice_id text, actor text not null, "
        "role text not null, actor_org text, created_at text not null, "
        "updated_at text not null, unique (match_id, side));"
        "create index if not exists lessons_association on lessons (association_id);"
        "create index if not exists lessons_owner on lessons (owner_id);"
        "create index if not exists lessons_item on lessons (kind, item_id);"
        "create table if not exists lesson_audit (id integer primary key, lesson_id integer "
        "not null references lessons(id) on delete cascade, match_id integer not null, "
        "association_id text, action text not null, actor text not null, actor_org text, "
        "role text not null, at text not null);"
        "create index if not exists lesson_audit_lesson on lesson_audit (lesson_id);")
    db["lessons"].enable_fts(("text",), tokenize=SEARCH_TOKENIZER, create_triggers=True,
                             replace=True)


# The triggers that count each change of what matches' outcomes say, so that the engine
# refreshes the per-item evidence it keeps (matcher.store.matches.item_evidence) without
# rebuilding its corpus. A table that adds evidence later (lessons) adds its own triggers.
_EVIDENCE_BUMP = ("update meta set value = cast(value as integer) + 1 "
                  "where key = 'evidence_version';")


@migrations(name="m021_evidence_version")
def m021_evidence_version(db: Database) -> None:
    """``meta.evidence_version``: a counter raised by triggers whenever a match's outcome is
    recorded, changed or deleted (with its match), read by the engine to refresh the evidence
    of past exchanges it ranks with."""
    db.execute("insert or ignore into meta (key, value) values ('evidence_version', '0')")
    db.execute("create trigger matches_evidence_insert after insert on matches "
               f"when new.outcome is not null begin {_EVIDENCE_BUMP} end")
    db.execute("create trigger matches_evidence_update after update of outcome on matches "
               f"when old.outcome is not new.outcome begin {_EVIDENCE_BUMP} end")
    db.execute("create trigger matches_evidence_delete after delete on matches "
               f"when old.outcome is not null begin {_EVIDENCE_BUMP} end")


@migrations(name="m024_lesson_evidence")
def m024_lesson_evidence(db: Database) -> None:
    """A lesson saying whether an exchange worked is evidence about its offering or practice
    (``matcher.store.matches.item_evidence``): writing, changing or removing one raises
    ``evidence_version`` as a match's outcome does (m021)."""
    db.execute("create trigger lessons_evidence_insert after insert on lessons "
               f"begin {_EVIDENCE_BUMP} end")
    db.execute("create trigger lessons_evidence_update after update of worked on lessons "
               f"when old.worked is not new.worked begin {_EVIDENCE_BUMP} end")
    db.execute("create trigger lessons_evidence_delete after delete on lessons "
               f"begin {_EVIDENCE_BUMP} end")
