"""The caller's notifications (every role): the list, marking read, and the preferences;
and the admin's view of the e-mail outbox. The words and rules are
:mod:`matcher.services.notifications`'s and :mod:`matcher.services.outbox`'s."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.i18n import N_
from api.pages.render import redirect, render
from api.pages.session import PageNotFound
from matcher.errors import InvalidInput, NotFound
from matcher.services import notifications as service
from matcher.services import outbox
from matcher.vocabulary import CHANNELS
from matcher.workflow.notifications import event_label

router = APIRouter(include_in_schema=False)

PER_PAGE = 30
CHANNEL_NAMES = {"app": N_("On this site"), "email": N_("By e-mail")}


def _page_number(page: str | None) -> int:
    return int(page) if page and page.isascii() and page.isdigit() and len(page) < 7 \
        and int(page) > 0 else 1


@router.get("/notifications")
def notifications_page(ctx: CtxDep, who: SignedInDep, page: str | None = None,
                       done: str | None = None):
    number = _page_number(page)
    items, total, unread = service.list_for(ctx.engine, who, lang=ctx.lang, limit=PER_PAGE,
                                            offset=(number - 1) * PER_PAGE)
    return render(ctx, "shared/notifications.html", items=items, total=total, unread=unread,
                  page=number, pages=max(1, -(-total // PER_PAGE)),
                  saved=done == "saved")


@router.post("/notifications/read-all")
def read_all(ctx: CtxDep, who: SignedInDep, form: FormDep):
    service.mark_all_read(ctx.engine, who)
    return redirect(ctx, "/notifications")


@router.post("/notifications/{notification_id}/read")
def read_one(ctx: CtxDep, who: SignedInDep, notification_id: str, form: FormDep):
    if not (notification_id.isascii() and notification_id.isdigit()
            and len(notification_id) < 16):
        raise PageNotFound()
    try:
        service.mark_read(ctx.engine, who, int(notification_id))
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "/notifications")


def _settings_page(ctx, who, status: int = 200, problem: str | None = None):
    table = service.preferences_of(ctx.engine, who)
    contact = service.contact_of(ctx.engine, who)
    rows = [{"event": event, "label": event_label(event, ctx.lang), "channels": channels}
            for event, channels in table.items()]
    return render(ctx, "shared/notification_settings.html", status, rows=rows,
                  channels=[(c, CHANNEL_NAMES[c]) for c in CHANNELS], contact=contact,
                  shared=bool(who.association_id or who.partner_id), problem=problem)


@router.get("/notifications/settings")
def settings_page(ctx: CtxDep, who: SignedInDep):
    return _settings_page(ctx, who)


@router.post("/notifications/settings")
def settings_save(ctx: CtxDep, who: SignedInDep, form: FormDep):
    wanted = {event: {channel: form.get(f"{event}.{channel}") == "on" for channel in CHANNELS}
              for event in service.preferences_of(ctx.engine, who)}
    service.set_preferences(ctx.engine, who, wanted)
    if service.contact_of(ctx.engine, who) is not None:
        try:
            service.set_contact(ctx.engine, who, email=form.get("email", ""),
                                language=form.get("mail_language") or "en")
        except InvalidInput:
            return _settings_page(ctx, who, 422, N_("This is not an e-mail address."))
    return redirect(ctx, "/notifications?done=saved")


@router.get("/admin/outbox")
def outbox_page(ctx: CtxDep, who: SignedInDep, pending: str | None = None,
                page: str | None = None):
    if not who.is_admin:
        raise PageNotFound()
    number = _page_number(page)
    rows, counts = outbox.outbox_for(ctx.engine, who, pending_only=pending == "1",
                                     limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    shown = counts["pending"] if pending == "1" else counts["pending"] + counts["sent"]
    return render(ctx, "admin/outbox.html", rows=rows, counts=counts,
                  pending_only=pending == "1", page=number,
                  pages=max(1, -(-shown // PER_PAGE)))
