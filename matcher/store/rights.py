"""Organisation data rights: everything stored about one association or partner, and its
deletion everywhere in one transaction (profile, texts, matches, vectors, tokens and users;
audit rows pseudonymised). Also the reads a coordinator's import is checked against."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from matcher.exchange import (
    Association,
    Exchange,
    Need,
    Partner,
    Practice,
    dump_document,
)
from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.lessons import LessonsMixin
from matcher.store.notifications import NotificationsMixin
from matcher.store.profiles import ImportReport, exported_flag, offering_record
from matcher.store.sql import in_list

# What replaces a deleted organisation in the audit trail (actor, notes) and on its tokens.
PSEUDONYM = "deleted organisation"
# Ids, names and texts shorter than this are not searched for in free-text notes (too many
# false hits).
MIN_NEEDLE = 4


@dataclass
class DeletionReport:
    """What deleting one organisation removed, revoked and pseudonymised."""

    deleted: dict[str, int] = field(default_factory=dict)  # rows per table
    vectors_deleted: int = 0
    tokens_revoked: int = 0
    audit_pseudonymised: int = 0


class RightsMixin(LessonsMixin, NotificationsMixin, BaseStore):
    """Reads for a data export and the one-transaction deletion of an organisation."""

    # ------------------------------------------------------------------ exports
    def association_record(self, association_id: str) -> dict | None:
        """The association with its needs and practices, in the exchange format."""
        row = next(self._rows("associations", "id = :id", {"id": association_id}), None)
        if row is None:
            return None
        needs = [Need(id=n["id"], text=n["text"], category=n["category"],
                      sensitive=exported_flag(n))
                 for n in self._rows("needs", "association_id = :association_id",
                                     {"association_id": association_id}, "position, rowid")]
        practices = [Practice(id=p["id"], text=p["text"], category=p["category"])
                     for p in self._rows("practices", "association_id = :association_id",
                                         {"association_id": association_id}, "position, rowid")]
        doc = Exchange(associations=[Association(**row, needs=needs, practices=practices)])
        return dump_document(doc)["associations"][0]

    def partner_record(self, partner_id: str) -> dict | None:
        """The partner with its offerings, in the exchange format."""
        row = next(self._rows("partners", "id = :id", {"id": partner_id}), None)
        if row is None:
            return None
        offerings = [offering_record(o) for o in self._rows(
            "offerings", "partner_id = :partner_id", {"partner_id": partner_id},
            "position, rowid")]
        doc = Exchange(partners=[Partner(**row, offerings=offerings)])
        return dump_document(doc)["partners"][0]

    def scoped_tokens(self, column: str, org_id: str) -> list[dict]:
        """Metadata (never hashes) of the tokens scoped to one association or partner
        (``column``: association_id or partner_id)."""
        cursor = self.db.execute(
            f"select id, role, label, created_at, revoked_at from tokens where "
            f"{_scope_column(column)} = :org_id order by id", {"org_id": org_id})
        names = list(cursor.keys())
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def scoped_users(self, column: str, org_id: str) -> list[dict]:
        """Metadata (never password hashes) of the web users of one association or partner
        (``column`` as in :meth:`scoped_tokens`)."""
        cursor = self.db.execute(
            f"select id, username, role, email, language, created_at, disabled_at from users "
            f"where {_scope_column(column)} = :org_id order by id", {"org_id": org_id})
        names = list(cursor.keys())
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ import checks
    def parents_of(self, table: str, ids: list[str]) -> dict[str, str]:
        """For needs, practices or offerings: id -> its stored association or partner."""
        key = {"needs": "association_id", "practices": "association_id",
               "offerings": "partner_id"}[table]
        return {rid: row[key] for rid, row in self._existing(table, ids).items()}

    def regions_of(self, association_ids: list[str]) -> dict[str, str | None]:
        """The stored region of each of these associations that exists."""
        return {rid: row["region"]
                for rid, row in self._existing("associations", association_ids).items()}

    def import_exchange_checked(self, doc: Exchange, check: Callable[[], None]) -> ImportReport:
        """Run ``check`` (which may read the store and raise) and the import in one
        transaction, so that nothing changes between the check and the write."""
        with self.writing():
            check()
            return self.import_exchange(doc)  # ProfilesMixin; joins this transaction

    # ------------------------------------------------------------------ deletion
    def delete_association(self, association_id: str,
                           live_hashes: Callable[[], set[str]]) -> DeletionReport | None:
        """Remove an association everywhere, in one transaction; None when it does not exist.

        ``live_hashes`` returns the content hashes of every text still to be embedded once the
        association's rows are gone (it runs inside the same transaction); vectors of any
        other hash are deleted.
        """
        with self._secure_transaction():
            row = next(self._rows("associations", "id = :id", {"id": association_id}), None)
            if row is None:
                return None
            texts = [r["text"] for table in ("needs", "practices")
                     for r in self._rows(table, "association_id = :association_id",
                                         {"association_id": association_id})]
            lessons = self.delete_lessons_involving(association_id)  # LessonsMixin
            report = self._forget(association_id, "association_id", row["name"], texts,
                                  self.delete_matches_involving(association_id=association_id))
            report.deleted["lessons"], report.deleted["lesson_audit"] = lessons
            report.deleted["not_interested"] = self.delete_not_interested_involving(
                association_id=association_id)  # LearningMixin
            params = {"association_id": association_id}
            report.deleted["need_audit"] = self.db.execute(
                "delete from need_audit where association_id = :association_id",
                params).rowcount
            for table in ("needs", "practices"):
                report.deleted[table] = self.db.execute(
                    f'delete from "{table}" where association_id = :association_id',
                    params).rowcount
            report.deleted["associations"] = self.db.execute(
                "delete from associations where id = :association_id", params).rowcount
            report.vectors_deleted = self._delete_dead_vectors(live_hashes())
            self._forget_changes()
            self._bump_version()
        return report

    def delete_partner(self, partner_id: str,
                       live_hashes: Callable[[], set[str]]) -> DeletionReport | None:
        """Remove a partner and its offerings everywhere (see :meth:`delete_association`)."""
        with self._secure_transaction():
            row = next(self._rows("partners", "id = :id", {"id": partner_id}), None)
            if row is None:
                return None
            texts = [t for o in self._rows("offerings", "partner_id = :partner_id",
                                           {"partner_id": partner_id})
                     for t in (o["title"], o["description"])]
            lessons = self.delete_lessons_involving(partner_id)  # LessonsMixin
            report = self._forget(partner_id, "partner_id", row["name"], texts,
                                  self.delete_matches_involving(partner_id=partner_id))
            report.deleted["lessons"], report.deleted["lesson_audit"] = lessons
            report.deleted["not_interested"] = self.delete_not_interested_involving(
                partner_id=partner_id)  # LearningMixin
            params = {"partner_id": partner_id}
            report.deleted["offerings"] = self.db.execute(
                "delete from offerings where partner_id = :partner_id", params).rowcount
            report.deleted["partners"] = self.db.execute(
                "delete from partners where id = :partner_id", params).rowcount
            report.vectors_deleted = self._delete_dead_vectors(live_hashes())
            self._forget_changes()
            self._bump_version()
        return report

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it (best effort: a reader still
        open keeps part of it), so that deleted content leaves the WAL file too (SQLite's;
        see :func:`matcher.store.dialect.checkpoint`)."""
        dialect.checkpoint(self.db)

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def _secure_transaction(self) -> Iterator[None]:
        """A write transaction whose deleted content SQLite overwrites with zeros."""
        with self.exclusive(), dialect.secure_delete(self.db), self.transaction():
            yield

    def _forget(self, org_id: str, column: str, name: str, texts: list[str],
                match_ids: list[int]) -> DeletionReport:
        """The organisation leaves the audit trail, the notes, its tokens and its users; its
        matches (``match_ids``) are already deleted."""
        report = DeletionReport(deleted={"matches": len(match_ids)})
        changed = self.pseudonymise_audit(org_id, PSEUDONYM, match_ids)  # MatchesMixin
        changed += self._scrub_audit(org_id, column, [org_id, name, *texts])
        report.audit_pseudonymised = changed
        report.tokens_revoked = self._retire_tokens(column, org_id)
        report.deleted["users"] = self._delete_users(column, org_id)
        kind = "association" if column == "association_id" else "partner"
        report.deleted["notifications"] = self.forget_notifications(  # NotificationsMixin
            f"{kind}:{org_id}", match_ids)
        return report

    def _scrub_audit(self, org_id: str, column: str, needles: list[str]) -> int:
        """What :meth:`pseudonymise_audit` does not reach: rows its tokens or users acted in
        without an ``actor_org``, and notes anywhere (audit and other matches) that name it
        or quote its texts."""
        tokens = [r[0] for r in self.db.execute(
            f"select id from tokens where {_scope_column(column)} = :org_id",
            {"org_id": org_id}).fetchall()]
        # Principal.actor is "token:<id> (<role> <scope>)", the scope being the org's id: it
        # ends with the scope, or starts with one of its tokens (LIKE: SQLite's ignores ASCII
        # case, PostgreSQL's does not, hence lower() on both sides)
        acted = ["substr(actor, length(actor) - length(:suffix) + 1) = :suffix"]
        params = {"pseudonym": PSEUDONYM, "suffix": f" {org_id})"}
        for i, token in enumerate(tokens):
            acted.append(f"lower(actor) like lower(:token{i})")
            params[f"token{i}"] = f"token:{token} (%"
        changed = self.db.execute(
            "update audit set actor = :pseudonym, "
            "note = case when note is null then null else :pseudonym end "
            f"where actor != :pseudonym and ({' or '.join(acted)})", params).rowcount
        for needle in {n for n in needles if n and len(n) >= MIN_NEEDLE}:
            params = {"pseudonym": PSEUDONYM, "needle": needle}
            changed += self.db.execute(
                "update audit set note = :pseudonym where "
                + dialect.contains(self.db, "note", "needle"), params).rowcount
            self.db.execute("update matches set note = :pseudonym where "
                            + dialect.contains(self.db, "note", "needle"), params)
            self.scrub_notifications(needle, PSEUDONYM)  # NotificationsMixin
        return changed

    def _retire_tokens(self, column: str, org_id: str) -> int:
        """Revoke the tokens scoped to the organisation, drop its id and their labels (the
        token ids stay, so the audit trail still tells one actor from another), and end
        their web sessions. Returns how many were still active."""
        column = _scope_column(column)
        params = {"org_id": org_id}
        revoked = self.db.execute(
            f"select count(*) from tokens where {column} = :org_id and revoked_at is null",
            params).fetchone()[0]
        self.db.execute(f"delete from web_sessions where token_id in "
                        f"(select id from tokens where {column} = :org_id)", params)
        self.db.execute(
            f"update tokens set revoked_at = coalesce(revoked_at, :at), {column} = null, "
            f"label = :pseudonym where {column} = :org_id",
            {**params, "at": datetime.now(UTC).isoformat(timespec="seconds"),
             "pseudonym": PSEUDONYM})
        return revoked

    def _delete_users(self, column: str, org_id: str) -> int:
        """Web users scoped to the organisation (their accounts serve nothing once it is
        gone, and a username is personal data), and their sessions."""
        column = _scope_column(column)
        params = {"org_id": org_id}
        self.db.execute(f"delete from web_sessions where user_id in "
                        f"(select id from users where {column} = :org_id)", params)
        return self.db.execute(f"delete from users where {column} = :org_id",
                               params).rowcount

    def _delete_dead_vectors(self, live: set[str]) -> int:
        """Delete every vector whose content hash no remaining text has."""
        stored = {row[0] for row in self.db.execute(
            "select distinct content_hash from vectors").fetchall()}
        dead = sorted(stored - live)
        count = 0
        for start in range(0, len(dead), 500):
            marks, chunk = in_list("hash", dead[start:start + 500])
            count += self.db.execute(
                f"delete from vectors where content_hash in ({marks})", chunk).rowcount
        return count


def _scope_column(column: str) -> str:
    if column not in ("association_id", "partner_id"):
        raise ValueError(f"not a scope column: {column!r}")
    return column
