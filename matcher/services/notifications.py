"""A caller's notifications: the list, the unread count, marking read, and preferences."""

from __future__ import annotations

from matcher.errors import InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.reference import UI_LANGUAGES
from matcher.vocabulary import CHANNELS, EVENTS
from matcher.workflow import notifications as told
from matcher.workflow.notifications import EMAIL_SHAPE


def _hidden(store, who: Principal) -> list[str]:
    table = told.preference_table(store, told.subscriber_of(who))
    return [event for (event, channel), on in table.items() if channel == "app" and not on]


def _worded(row: dict, lang: str) -> dict:
    return {"id": row["id"], "event": row["event"], "match_id": row["match_id"],
            "text": told.summary(row["event"], row["params"], lang),
            "note": row["params"].get("note") if row["event"] == "approved" else None,
            "link": told.link_path(row["audience"], row["match_id"]),
            "created_at": row["created_at"], "read": row["read_at"] is not None}


def list_for(engine: Engine, who: Principal, *, lang: str = "en", unread_only: bool = False,
             limit: int = 50, offset: int = 0) -> tuple[list[dict], int, int]:
    """The caller's notifications, newest first, worded in ``lang``; the total and unread."""
    store = engine.store
    rows, total, unread = store.notifications_for(
        told.audiences_of(who), told.reader_of(who), hidden_events=_hidden(store, who),
        unread_only=unread_only, limit=limit, offset=offset)
    return [_worded(row, lang) for row in rows], total, unread


def unread_count(engine: Engine, who: Principal) -> int:
    """How many of the caller's notifications it has not read."""
    return list_for(engine, who, limit=0)[2]


def mark_read(engine: Engine, who: Principal, notification_id: int) -> None:
    """Mark one of the caller's notifications read (someone else's does not exist)."""
    store = engine.store
    row = store.get_notification(notification_id)
    if row is None or row["audience"] not in told.audiences_of(who):
        raise NotFound(f"no notification with id {notification_id}")
    store.mark_read([notification_id], told.reader_of(who))


def mark_all_read(engine: Engine, who: Principal) -> int:
    """Mark every notification of the caller read; returns how many were unread."""
    store = engine.store
    ids = store.unread_ids(told.audiences_of(who), told.reader_of(who), _hidden(store, who))
    return store.mark_read(ids, told.reader_of(who))


def preferences_of(engine: Engine, who: Principal) -> dict[str, dict[str, bool]]:
    """event -> channel -> on, for the events the caller can be told of."""
    store = engine.store
    table = told.preference_table(store, told.subscriber_of(who))
    return {event: {channel: table[(event, channel)] for channel in CHANNELS}
            for event in told.events_for(who)}


def set_preferences(engine: Engine, who: Principal, wanted: dict[str, dict[str, bool]]) -> None:
    """Switch events on or off per channel for the caller (its organisation, for associations
    and partners: one e-mail address, one choice)."""
    store = engine.store
    table: dict[tuple[str, str], bool] = {}
    for event, channels in wanted.items():
        if event not in EVENTS:
            raise InvalidInput(f"event is one of: {', '.join(EVENTS)}", field="event")
        for channel, on in channels.items():
            if channel not in CHANNELS:
                raise InvalidInput(f"channel is one of: {', '.join(CHANNELS)}", field="channel")
            table[(event, channel)] = bool(on)
    store.set_preferences(told.subscriber_of(who), table)


def username_of(who: Principal) -> str | None:
    """The web user behind a caller, if it signed in with a password."""
    reader = told.reader_of(who)
    return reader[5:] if reader.startswith("user:") else None


def contact_of(engine: Engine, who: Principal) -> dict | None:
    """The e-mail address and language a coordinator's or admin's user is written to (None
    for associations and partners: they are written to at their profile's contact e-mail)."""
    store = engine.store
    name = username_of(who)
    if name is None or who.association_id or who.partner_id:
        return None
    return store.user_contact(name)


def set_contact(engine: Engine, who: Principal, *, email: str | None, language: str | None) -> None:
    """Set the caller's (a coordinator's or admin's user) e-mail address and language."""
    store = engine.store
    name = username_of(who)
    if name is None or who.association_id or who.partner_id:
        raise InvalidInput("only a coordinator's or admin's user has its own e-mail address; "
                           "associations and partners are written to at their profile's "
                           "contact e-mail", field="email")
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_SHAPE.match(email)):
        raise InvalidInput("not an e-mail address", field="email")
    if language is not None and language not in UI_LANGUAGES:
        raise InvalidInput(f"language is one of: {', '.join(UI_LANGUAGES)}", field="language")
    store.set_user_contact(name, email=email, language=language)
