"""Notifications, who read them, who switched which event off, and the e-mail outbox.

A notification is addressed to an audience (``association:<id>``, ``partner:<id>``,
``region:<code>``); its read marks are per reader (``user:<name>``, ``token:<id>``). Outbox rows
are written in the same transaction as the change they tell of (the caller's ``writing()``
block), and marked sent only once the mail server accepted them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from matcher.errors import NotFound
from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.sql import in_list


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Mail:
    """One e-mail to queue: where, in which language, and its words."""

    recipient: str
    language: str
    subject: str
    body: str


def _notification(row: dict) -> dict:
    """A notification row as it is read (without PostgreSQL's ``rowid`` column, which SQLite's
    ``*`` never lists)."""
    return {**{k: v for k, v in row.items() if k != "rowid"},
            "params": json.loads(row["params"] or "{}")}


class NotificationsMixin(BaseStore):
    """The rows behind in-app notifications and e-mail delivery."""

    # ------------------------------------------------------------------ writes of an event
    def add_notification(self, audience: str, event: str, match_id: int | None,
                         params: dict, mails: list[Mail] = (), at: str | None = None) -> int:
        """One notification for ``audience`` and its e-mails in the outbox; joins the caller's
        transaction (so nothing is told of a change that did not happen, and nothing that
        happened goes untold)."""
        at = at or _now()
        with self.writing():
            notification_id = int(self.db.insert("notifications", {
                "audience": audience, "event": event, "match_id": match_id,
                "params": json.dumps(params), "created_at": at}))
            for mail in mails:
                self.queue_mail(mail, event, notification_id, at)
        return notification_id

    def queue_mail(self, mail: Mail, event: str, notification_id: int | None = None,
                   at: str | None = None) -> int:
        """One e-mail in the outbox, with a Message-ID of its own; due at once."""
        at = at or _now()
        with self.writing():
            row_id = int(self.db.insert("outbox", {
                "message_id": "", "notification_id": notification_id, "event": event,
                "recipient": mail.recipient, "language": mail.language, "subject": mail.subject,
                "body": mail.body, "created_at": at, "attempts": 0, "next_attempt_at": at}))
            self.db.execute("update outbox set message_id = :message_id where id = :id",
                            {"message_id": f"<outbox-{row_id}.{at[:10]}@delve-matcher>",
                             "id": row_id})
        return row_id

    def notified(self, event: str, match_id: int) -> bool:
        """Whether ``event`` was already told of for this match (reminders go out once)."""
        return self.db.execute("select 1 from notifications where event = :event and "
                               "match_id = :match_id limit 1",
                               {"event": event, "match_id": match_id}).fetchone() is not None

    # ------------------------------------------------------------------ in-app reads
    def notifications_for(self, audiences: list[str], reader: str, *,
                          hidden_events: list[str] = (), unread_only: bool = False,
                          limit: int = 50, offset: int = 0) -> tuple[list[dict], int, int]:
        """The newest notifications of ``audiences`` (without ``hidden_events``), each with
        ``read``; and how many there are in all, and unread."""
        if not audiences:
            return [], 0, 0
        marks, params = in_list("audience", audiences)
        where = f"n.audience in ({marks})"
        if hidden_events:
            marks, hidden = in_list("hidden", hidden_events)
            where += f" and n.event not in ({marks})"
            params.update(hidden)
        joined = ("from notifications n left join notification_reads r on "
                  "r.notification_id = n.id and r.reader = :reader where " + where)
        params["reader"] = reader
        total, unread = self.db.execute(
            "select count(*), sum(case when r.read_at is null then 1 else 0 end) " + joined,
            params).fetchone()
        only = " and r.read_at is null" if unread_only else ""
        cursor = self.db.execute(
            f"select n.*, r.read_at {joined}{only} order by n.id desc limit :limit "
            "offset :offset", {**params, "limit": limit, "offset": offset})
        names = list(cursor.keys())
        rows = [_notification(dict(zip(names, row))) for row in cursor.fetchall()]
        return rows, int(total or 0), int(unread or 0)

    def get_notification(self, notification_id: int) -> dict | None:
        row = next(self._rows("notifications", "id = :id", {"id": notification_id}, "id"), None)
        return _notification(row) if row else None

    def mark_read(self, notification_ids: list[int], reader: str) -> int:
        """Mark notifications read for ``reader``; returns how many were unread."""
        at, changed = _now(), 0
        with self.writing():
            for notification_id in notification_ids:
                changed += self.db.execute(
                    "insert into notification_reads (notification_id, reader, read_at) "
                    "values (:notification_id, :reader, :read_at) "
                    "on conflict (notification_id, reader) do nothing",
                    {"notification_id": notification_id, "reader": reader,
                     "read_at": at}).rowcount
        return changed

    def unread_ids(self, audiences: list[str], reader: str,
                   hidden_events: list[str] = ()) -> list[int]:
        rows, _, _ = self.notifications_for(audiences, reader, hidden_events=hidden_events,
                                            unread_only=True, limit=10_000)
        return [row["id"] for row in rows]

    # ------------------------------------------------------------------ preferences
    def preferences(self, subscriber: str) -> dict[tuple[str, str], bool]:
        """(event, channel) -> enabled, for what ``subscriber`` changed (the rest is on)."""
        cursor = self.db.execute("select event, channel, enabled from notification_prefs "
                                 "where subscriber = :subscriber", {"subscriber": subscriber})
        return {(event, channel): bool(on) for event, channel, on in cursor.fetchall()}

    def set_preferences(self, subscriber: str, table: dict[tuple[str, str], bool]) -> None:
        with self.writing():
            for (event, channel), on in table.items():
                self.db.execute(
                    "insert into notification_prefs (subscriber, event, channel, enabled) "
                    "values (:subscriber, :event, :channel, :enabled) "
                    "on conflict (subscriber, event, channel) do update "
                    "set enabled = excluded.enabled",
                    {"subscriber": subscriber, "event": event, "channel": channel,
                     "enabled": int(on)})

    def disabled_subscribers(self, event: str, channel: str) -> set[str]:
        cursor = self.db.execute("select subscriber from notification_prefs where "
                                 "event = :event and channel = :channel and enabled = 0",
                                 {"event": event, "channel": channel})
        return {row[0] for row in cursor.fetchall()}

    # ------------------------------------------------------------------ users' addresses
    def coordinators_of(self, region: str) -> list[dict]:
        """The active coordinator users of ``region``: username, email, language."""
        cursor = self.db.execute(
            "select username, email, language, regions from users where role = 'coordinator' "
            "and disabled_at is null order by id")
        return [{"username": name, "email": email, "language": lang}
                for name, email, lang, regions in cursor.fetchall()
                if region in json.loads(regions or "[]")]

    def user_contact(self, username: str) -> dict:
        row = self.db.execute("select email, language from users where username = :username",
                              {"username": username}).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return {"email": row[0], "language": row[1]}

    def set_user_contact(self, username: str, *, email: str | None,
                         language: str | None) -> None:
        with self.writing():
            changed = self.db.execute("update users set email = :email, language = :language "
                                      "where username = :username",
                                      {"email": email, "language": language,
                                       "username": username})
            if changed.rowcount == 0:
                raise NotFound(f"no user {username!r}")

    # ------------------------------------------------------------------ the outbox
    def due_mail(self, now: str, limit: int = 50) -> list[dict]:
        """Unsent outbox rows whose next attempt is due, oldest first."""
        return list(self._rows("outbox", "sent_at is null and next_attempt_at <= :now",
                               {"now": now}, "id"))[:limit]

    def mark_sent(self, outbox_id: int, at: str | None = None) -> None:
        with self.writing():
            self.db.execute("update outbox set sent_at = :at, attempts = attempts + 1, "
                            "last_error = null where id = :id and sent_at is null",
                            {"at": at or _now(), "id": outbox_id})

    def mark_failed(self, outbox_id: int, error: str, next_attempt_at: str) -> None:
        with self.writing():
            self.db.execute("update outbox set attempts = attempts + 1, last_error = :error, "
                            "next_attempt_at = :next_attempt_at where id = :id and sent_at is null",
                            {"error": error[:500], "next_attempt_at": next_attempt_at,
                             "id": outbox_id})

    def outbox(self, *, pending_only: bool = False, limit: int = 100,
               offset: int = 0) -> tuple[list[dict], dict[str, int]]:
        """Outbox rows, newest first; and counts (pending, sent, failing)."""
        where = "sent_at is null" if pending_only else ""
        rows = list(self._rows("outbox", where, {}, "id desc"))[offset:offset + limit]
        pending, sent, failing = self.db.execute(
            "select sum(case when sent_at is null then 1 else 0 end), "
            "sum(case when sent_at is not null then 1 else 0 end), "
            "sum(case when sent_at is null and attempts > 0 then 1 else 0 end) "
            "from outbox").fetchone()
        return rows, {"pending": int(pending or 0), "sent": int(sent or 0),
                      "failing": int(failing or 0)}

    def outbox_row(self, outbox_id: int) -> dict | None:
        return next(self._rows("outbox", "id = :id", {"id": outbox_id}, "id"), None)

    # ------------------------------------------------------------------ data rights
    def forget_notifications(self, audience: str, match_ids: list[int]) -> int:
        """An organisation is erased: its notifications, those about its (deleted) matches,
        their read marks and e-mails, and its preferences go. Joins the caller's
        transaction; returns how many notifications were deleted."""
        with self.writing():
            ids = {row[0] for row in self.db.execute(
                "select id from notifications where audience = :audience",
                {"audience": audience}).fetchall()}
            for start in range(0, len(match_ids), 500):
                marks, chunk = in_list("match", match_ids[start:start + 500])
                ids |= {row[0] for row in self.db.execute(
                    f"select id from notifications where match_id in ({marks})",
                    chunk).fetchall()}
            chosen = sorted(ids)
            for start in range(0, len(chosen), 500):
                marks, chunk = in_list("id", chosen[start:start + 500])
                self.db.execute(f"delete from notification_reads where notification_id in "
                                f"({marks})", chunk)
                self.db.execute(f"delete from outbox where notification_id in ({marks})", chunk)
                self.db.execute(f"delete from notifications where id in ({marks})", chunk)
            self.db.execute("delete from notification_prefs where subscriber = :audience",
                            {"audience": audience})
        return len(chosen)

    def scrub_notifications(self, needle: str, replacement: str) -> int:
        """Replace ``needle`` (a name, a text) wherever a notification or an e-mail quotes it
        (a coordinator's note naming an erased organisation). Joins the caller's
        transaction."""
        encoded = json.dumps(needle)[1:-1]  # as it stands inside the params' JSON
        with self.writing():
            changed = self.db.execute(
                "update notifications set params = replace(params, :needle, :replacement) "
                "where " + dialect.contains(self.db, "params", "needle"),
                {"needle": encoded, "replacement": replacement}).rowcount
            changed += self.db.execute(
                "update outbox set subject = replace(subject, :needle, :replacement), "
                "body = replace(body, :needle, :replacement) where "
                f"{dialect.contains(self.db, 'subject', 'needle')} or "
                f"{dialect.contains(self.db, 'body', 'needle')}",
                {"needle": needle, "replacement": replacement}).rowcount
        return changed

    # ------------------------------------------------------------------ reminders
    def stale_active_matches(self, updated_before: str) -> list[dict]:
        """Active matches unchanged since ``updated_before`` (no outcome recorded)."""
        cursor = self.db.execute(
            "select m.id, m.association_id, a.region, m.updated_at from matches m "
            "left join associations a on a.id = m.association_id "
            "where m.status = 'active' and m.updated_at <= :updated_before order by m.id",
            {"updated_before": updated_before})
        names = list(cursor.keys())
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def digest_counts(self, region: str, since: str) -> dict[str, int]:
        """For a coordinator's digest: proposed matches waiting, new since ``since``, and
        active ones of the region."""
        def count(sql: str, **params: str) -> int:
            return int(self.db.execute(
                "select count(*) from matches m join associations a on a.id = m.association_id "
                "where a.region = :region and " + sql, {"region": region, **params}
            ).fetchone()[0])
        return {"waiting": count("m.status = 'proposed'"),
                "new": count("m.status = 'proposed' and m.created_at >= :since", since=since),
                "active": count("m.status = 'active'")}
