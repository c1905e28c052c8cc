"""Delivering the e-mail outbox over SMTP, at least once, and the coordinators' digest.

Each outbox row is one message with its own Message-ID; it is marked sent only after the
server accepted it, so a crash between the two sends it again, with the same Message-ID
(receivers drop the duplicate). A failure is counted and retried with exponential backoff.
With no mail server configured, the outbox keeps every message and nothing fails.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from matcher.errors import Forbidden, NotFound, Unavailable
from matcher.i18n import _
from matcher.principals import Principal
from matcher.process_lock import worker_lock
from matcher.ranking.engine import Engine
from matcher.settings import Settings
from matcher.store import Mail
from matcher.store.locks import database_lock
from matcher.workflow import notifications

log = logging.getLogger(__name__)

FIRST_RETRY = 30  # seconds; doubled after each failure
LAST_RETRY = 6 * 3600


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, … 6 h."""
    return timedelta(seconds=min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1)))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def message_for(row: dict, settings: Settings) -> EmailMessage:
    """The e-mail of one outbox row."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = row["message_id"] or make_msgid(domain="delve-matcher")
    message["Date"] = format_datetime(datetime.fromisoformat(row["created_at"]))
    message.set_content(row["body"])
    message["Content-Language"] = row["language"]  # after set_content, which clears Content-*
    return message


@dataclass
class Delivery:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    held: int = 0  # due, but no mail server is configured


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    if settings.smtp_starttls:
        smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password or "")
    return smtp


def deliver_pending(store, settings: Settings, *, now: datetime | None = None,
                    limit: int = 200) -> Delivery:
    """Send every due outbox row once; mark each sent as soon as the server accepted it."""
    now = now or _now()
    due = store.due_mail(now.isoformat(), limit)
    result = Delivery()
    if not due:
        return result
    if not settings.smtp_host:
        result.held = len(due)
        return result
    smtp = None
    for row in due:
        try:
            if smtp is None:
                smtp = _connect(settings)
            smtp.send_message(message_for(row, settings))
        except (OSError, smtplib.SMTPException) as error:
            result.failed += 1
            retry = now + backoff(row["attempts"] + 1)
            store.mark_failed(row["id"], f"{type(error).__name__}: {error}", retry.isoformat())
            log.warning("outbox %s: not sent (%s); next attempt at %s", row["id"],
                        type(error).__name__, retry.isoformat())
            if smtp is not None and isinstance(error, OSError):
                smtp = None  # the connection is gone: reconnect for the next one
            continue
        store.mark_sent(row["id"], _now().isoformat())
        result.sent += 1
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return result


def send_digest(engine, *, since: datetime | None = None) -> int:
    """Queue each coordinator with an e-mail address a digest of its regions (requests new
    since ``since``, default a day ago; waiting; active); returns how many were queued."""
    store, ref = engine.store, engine.ref
    since = since or _now() - timedelta(days=1)
    queued = 0
    off = store.disabled_subscribers("requested", "email")
    for user in store.users():
        if user["role"] != "coordinator" or user["disabled_at"] or not user["regions"]:
            continue
        contact = store.user_contact(user["username"])
        if not contact["email"] or f"user:{user['username']}" in off:
            continue
        lang = contact["language"] if contact["language"] in ("en", "fr", "es", "pt") else "en"
        regions = [{"name": ref.region_label(region, lang),
                    **store.digest_counts(region, since.isoformat())}
                   for region in user["regions"]]
        body = notifications.mail_text(
            ref.data_dir, lang, "digest.txt.j2", regions=regions,
            link=engine.settings.public_url.rstrip("/") + "/review")
        store.queue_mail(Mail(contact["email"], lang,
                              _("Delve Exchange: your daily digest", lang), body), "digest")
        queued += 1
    return queued


def outbox_for(engine: Engine, who: Principal, *, pending_only: bool = False, limit: int = 100,
               offset: int = 0) -> tuple[list[dict], dict[str, int]]:
    """The outbox, for admins."""
    store = engine.store
    if not who.is_admin:
        raise Forbidden("only admins may read the outbox")
    return store.outbox(pending_only=pending_only, limit=limit, offset=offset)


def outbox_row(store, who: Principal, outbox_id: int) -> dict:
    if not who.is_admin:
        raise Forbidden("only admins may read the outbox")
    row = store.outbox_row(outbox_id)
    if row is None:
        raise NotFound(f"no outbox message with id {outbox_id}")
    return row


def courier_locks(settings: Settings) -> list:
    """The locks a process holds while it delivers the outbox: with several worker
    processes, a file lock among them; over PostgreSQL, also the database's courier lock
    among every server (a message is never sent by two at once)."""
    locks = [worker_lock(settings.local_files(), "courier", settings.workers),
             database_lock(settings.db, "courier")]
    return [lock for lock in locks if lock is not None]


class Courier:
    """`matcher serve`'s background delivery: every ``settings.notify_interval`` seconds (and
    at once when :meth:`wake` is called), deliver what is due and remind of stale matches."""

    def __init__(self, engine_provider):
        self._engines = engine_provider
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-courier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        last_reminders = None
        settings = self._engines.settings
        # with several worker processes or servers, the one holding the locks delivers
        # (another takes over on its next look if that one ends): a message is never sent
        # twice at once
        locks = courier_locks(settings)
        try:
            while not self._stop.is_set():
                try:
                    if all(lock.try_acquire() for lock in locks):
                        engine = self._engines.get()
                        settings = engine.settings
                        deliver_pending(engine.store, settings)
                        today = _now().date()
                        if last_reminders != today:
                            notifications.remind_stale(engine, settings.reminder_days)
                            last_reminders = today
                except Unavailable:  # the database is down or restarting: no traceback
                    log.warning("outbox delivery waits: the database cannot be reached")
                    settings = self._engines.settings
                except Exception:  # noqa: BLE001 - the loop must outlive any one failure
                    log.exception("outbox delivery failed; trying again")
                    settings = self._engines.settings
                self._wake.wait(settings.notify_interval)
                self._wake.clear()
        finally:
            for lock in locks:
                lock.release()
