"""A caller's notifications (newest first, unread count, marking read), its preferences, and
the e-mail outbox for admins. The words are :mod:`matcher.workflow.notifications`'s; these
routes turn HTTP into :mod:`matcher.services.notifications` calls and back."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.deps import EngineDep
from api.schemas import ErrorMessage, Lang
from api.security import guard
from matcher.principals import Principal, Role
from matcher.services import notifications as service
from matcher.services import outbox
from matcher.vocabulary import CHANNELS, EVENTS

router = APIRouter(tags=["notifications"])

Event = Literal[EVENTS]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
_404 = {404: {"model": ErrorMessage, "description": "No such notification (or not the caller's)"}}


class Notification(BaseModel):
    id: int
    event: Event
    match_id: int | None = Field(description="the match it tells of, if any")
    text: str = Field(description="what happened, in the language asked for")
    note: str | None = Field(description="the coordinator's note, on an approval")
    link: str = Field(description="the page of the match for the caller")
    created_at: str
    read: bool


class NotificationPage(BaseModel):
    items: list[Notification]
    total: int
    unread: int


class Marked(BaseModel):
    marked: int = Field(description="how many were unread")


class Preference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Event
    channel: Channel = Field(description="app: the notification list; email")
    enabled: StrictBool


class Preferences(BaseModel):
    """Per event and channel: on or off. In a change, only the pairs named change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"preferences": [{"event": "introduced", "channel": "email",
                                       "enabled": False}]}]})

    preferences: list[Preference] = Field(max_length=len(EVENTS) * len(CHANNELS))


def _preferences(table: dict[str, dict[str, bool]]) -> Preferences:
    return Preferences(preferences=[
        Preference(event=event, channel=channel, enabled=on)
        for event, channels in table.items() for channel, on in channels.items()])


class OutboxMessage(BaseModel):
    id: int
    message_id: str
    event: str
    recipient: str
    language: str
    subject: str
    created_at: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    sent_at: str | None


class OutboxPage(BaseModel):
    items: list[OutboxMessage]
    pending: int
    sent: int
    failing: int = Field(description="pending messages that failed at least once")


NotificationId = Annotated[int, Path(ge=1, le=2**53, description="the notification id")]


@router.get("/notifications", response_model=NotificationPage, operation_id="list_notifications",
            summary="The caller's notifications, newest first, and how many are unread")
def list_notifications(
        engine: EngineDep, who: Annotated[Principal, guard("list_notifications")],
        lang: Annotated[Lang, Query(description="the language of the texts")] = "en",
        unread: Annotated[bool, Query(description="only the unread ones")] = False,
        limit: Annotated[int, Query(ge=0, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> NotificationPage:
    """Associations and partners read their organisation's; coordinators their regions'.
    Events switched off for the ``app`` channel are left out."""
    items, total, unread_count = service.list_for(engine, who, lang=lang,
                                                  unread_only=unread, limit=limit,
                                                  offset=offset)
    return NotificationPage(items=items, total=total, unread=unread_count)


@router.post("/notifications/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT,
             responses=_404, operation_id="read_notification",
             summary="Mark one notification read (for the caller only)")
def read_notification(engine: EngineDep, who: Annotated[Principal, guard("read_notification")],
                      notification_id: NotificationId) -> None:
    service.mark_read(engine, who, notification_id)


@router.post("/notifications/read-all", response_model=Marked,
             operation_id="read_all_notifications",
             summary="Mark every notification of the caller read")
def read_all_notifications(engine: EngineDep,
                           who: Annotated[Principal, guard("read_all_notifications")]) -> Marked:
    return Marked(marked=service.mark_all_read(engine, who))


@router.get("/notifications/preferences", response_model=Preferences,
            operation_id="get_notification_preferences",
            summary="Which events the caller is told of, by which channel")
def get_notification_preferences(
        engine: EngineDep,
        who: Annotated[Principal, guard("get_notification_preferences")]) -> Preferences:
    """An association's or partner's preferences are its organisation's (one contact e-mail);
    a coordinator's are its own."""
    return _preferences(service.preferences_of(engine, who))


@router.put("/notifications/preferences", response_model=Preferences,
            operation_id="set_notification_preferences",
            summary="Switch events on or off per channel")
def set_notification_preferences(
        engine: EngineDep, body: Preferences,
        who: Annotated[Principal, guard("set_notification_preferences")]) -> Preferences:
    """Only the events and channels named change."""
    wanted: dict[str, dict[str, bool]] = {}
    for item in body.preferences:
        wanted.setdefault(item.event, {})[item.channel] = item.enabled
    service.set_preferences(engine, who, wanted)
    return _preferences(service.preferences_of(engine, who))


@router.get("/outbox", response_model=OutboxPage, operation_id="list_outbox",
            summary="The e-mail outbox: what was sent, what waits and why")
def list_outbox(engine: EngineDep, who: Annotated[Principal, guard("list_outbox", Role.ADMIN)],
                pending: Annotated[bool, Query(description="only unsent messages")] = False,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> OutboxPage:
    """Admins only. Message bodies are left out (they may quote coordinators' notes)."""
    rows, counts = outbox.outbox_for(engine, who, pending_only=pending, limit=limit,
                                     offset=offset)
    return OutboxPage(items=rows, **counts)
