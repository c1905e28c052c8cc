"""Who is told of what happens to a match, in which words, and the e-mails it queues.

Events (``matcher.vocabulary.EVENTS``): a request is made (or a round proposed), the region's
coordinators are told; a match is approved, its association is told, with the coordinator's
note; an introduction is made, both sides are told; a match stays active without an outcome,
the coordinators are reminded; a comment is added, everyone else who reads the match's thread
is told (never its words). :func:`emit` writes the notification and its e-mails in the
caller's transaction: call it inside the ``store.writing()`` block of the change.

A notification carries the values it is worded from, never a need's text: a partner is told
the association's name only when it may read the match unredacted, and only the association
reads the coordinator's note. Texts are worded when shown, in the reader's language; e-mails
when queued, in the recipient's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from matcher.i18n import _
from matcher.store import Mail
from matcher.vocabulary import CHANNELS, EVENTS
from matcher.workflow.introductions import (
    TEMPLATE_LANGUAGES,
    association_language,
    partner_language,
    template_folder,
)

EMAIL_SHAPE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


# ---------------------------------------------------------------------- words
def summary(event: str, params: dict, lang: str = "en") -> str:
    """One sentence telling ``event``, in ``lang``."""
    item = params.get("item_title") or _("an offering", lang)
    if event == "requested":
        return _("{association} asked for a match with {item}.", lang,
                 association=params.get("association_name") or _("An association", lang),
                 item=item)
    if event == "round_proposed":
        return _("A round was proposed: {title}.", lang, title=params.get("title") or "")
    if event == "approved":
        return _("A coordinator approved your request for {item}.", lang, item=item)
    if event == "introduced" and params.get("side") == "need":
        return _("You were introduced to {owner} about {item}.", lang,
                 owner=params.get("owner_name") or "", item=item)
    if event == "introduced":
        return _("{association} was introduced to you about {item}.", lang,
                 association=params.get("association_name")
                 or _("An association", lang), item=item)
    if event == "reminder":
        return _("Match {match} ({item}) has been active for {days} days without an outcome.",
                 lang, match=params.get("match_id"), item=item, days=params.get("days"))
    if event == "partner_answered" and params.get("answer") == "declined":
        return _("{owner} declined the match {match} ({item}).", lang,
                 owner=params.get("owner_name") or "", match=params.get("match_id"),
                 item=item)
    if event == "partner_answered":
        return _("{owner} accepted the match {match} ({item}).", lang,
                 owner=params.get("owner_name") or "", match=params.get("match_id"),
                 item=item)
    if event == "commented":
        return _("New comment on match {match} ({item}).", lang,
                 match=params.get("match_id"), item=item)
    return event


def event_label(event: str, lang: str = "en") -> str:
    """The name of an event, for the preferences."""
    return {
        "requested": _("A request is made in my region", lang),
        "round_proposed": _("A round is proposed in my region", lang),
        "approved": _("A coordinator approves our request", lang),
        "introduced": _("An introduction is made", lang),
        "reminder": _("A match stays active without an outcome", lang),
        "partner_answered": _("A partner accepts or declines a match", lang),
        "commented": _("Someone comments on a match", lang),
    }.get(event, event)


def link_path(audience: str, match_id: int | None) -> str:
    """The page of the match for this audience."""
    kind = audience.split(":", 1)[0]
    if match_id is None:
        return "/notifications"
    if kind == "association":
        return f"/matches/{match_id}"
    if kind == "partner":
        return f"/partner/matches/{match_id}"
    return f"/review/{match_id}"


@lru_cache(maxsize=4)
def _environment(folder: str) -> Environment:
    return Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined,
                       autoescape=False, trim_blocks=True, lstrip_blocks=True)


def mail_text(data_dir, lang: str, name: str, **context) -> str:
    """A plain-text e-mail template of ``data/templates/<lang>/``, rendered."""
    text = _environment(str(template_folder(data_dir))).get_template(
        f"{lang}/{name}").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# ---------------------------------------------------------------------- recipients
def audiences_of(who) -> list[str]:
    """The audiences a caller reads: its organisation's, or its regions'."""
    if who.association_id:
        return [f"association:{who.association_id}"]
    if who.partner_id:
        return [f"partner:{who.partner_id}"]
    return [f"region:{region}" for region in sorted(who.regions)]


def reader_of(who) -> str:
    """Whose read marks: the web user (``user:<name>``) or the token (``token:<id>``)."""
    return who.actor.split(" ", 1)[0]


def subscriber_of(who) -> str:
    """Whose preferences a caller changes: its organisation's, or its own (coordinators)."""
    if who.association_id:
        return f"association:{who.association_id}"
    if who.partner_id:
        return f"partner:{who.partner_id}"
    return reader_of(who)


def _mail_targets(store, audience: str) -> list[tuple[str, str, str]]:
    """(subscriber, address, language) of each e-mail recipient of ``audience``."""
    kind, _, key = audience.partition(":")
    if kind in ("association", "partner"):
        row = store.get("associations" if kind == "association" else "partners", key)
        address = ((row or {}).get("contact") or {}).get("email")
        if not row or not address or not EMAIL_SHAPE.match(address.strip()):
            return []
        lang = association_language(row) if kind == "association" else partner_language(row)
        return [(audience, address.strip(), lang)]
    return [(f"user:{user['username']}", user["email"].strip(),
             user["language"] if user["language"] in TEMPLATE_LANGUAGES else "en")
            for user in store.coordinators_of(key)
            if user["email"] and EMAIL_SHAPE.match(user["email"].strip())]


# ---------------------------------------------------------------------- emitting
def emit(engine, event: str, audience: str, params: dict,
         match_id: int | None = None) -> int:
    """Tell ``audience`` of ``event``: one notification, and an e-mail to each of its
    recipients who did not switch the event off. Joins the caller's transaction. The generic
    hook: rounds and later events call it too."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    store = engine.store
    off = store.disabled_subscribers(event, "email")
    mails = []
    for subscriber, address, lang in _mail_targets(store, audience):
        if subscriber in off:
            continue
        text = summary(event, params, lang)
        body = mail_text(engine.ref.data_dir, lang, "notification.txt.j2", summary=text,
                         note=params.get("note") or "",
                         link=engine.settings.public_url.rstrip("/")
                         + link_path(audience, match_id))
        mails.append(Mail(address, lang, _("Delve Exchange: {summary}", lang,
                                            summary=text), body))
    return store.add_notification(audience, event, match_id, params, mails)


def _names(engine, match: dict) -> dict:
    store = engine.store
    association = store.get("associations", match["association_id"]) or {}
    if match["kind"] == "partner":
        item = store.get("offerings", match["item_id"]) or {}
        owner = store.get("partners", match["owner_id"]) or {}
        title = item.get("title") or match["item_id"]
    else:
        item = store.get("practices", match["item_id"]) or {}
        owner = store.get("associations", match["owner_id"]) or {}
        title = (item.get("text") or match["item_id"]).split(". ")[0][:90]
    return {"match_id": match["id"], "kind": match["kind"], "item_title": title,
            "association_name": association.get("name"), "owner_name": owner.get("name"),
            "region": association.get("region")}


def on_proposed(engine, match: dict, by_reviewer: bool) -> None:
    """A request: the region's coordinators are told (not when they made it themselves)."""
    names = _names(engine, match)
    if by_reviewer or not names["region"] or engine.store.notified("requested", match["id"]):
        return  # a retry under the same Idempotency-Key tells nobody twice
    emit(engine, "requested", f"region:{names['region']}", names, match["id"])


def on_transition(engine, action: str, match: dict, note: str | None) -> None:
    """After a match changed (inside its transaction): tell whom it concerns."""
    names = _names(engine, match)
    if action == "approve":
        emit(engine, "approved", f"association:{match['association_id']}",
             {**names, "note": (note or "").strip() or None}, match["id"])
    elif action == "accept":
        emit(engine, "introduced", f"association:{match['association_id']}",
             {**names, "side": "need"}, match["id"])
        other = "partner" if match["kind"] == "partner" else "association"
        # the other side reads the association's name only once it may read the match
        visible = match["introduced_at"] is not None or not match.get("redacted")
        emit(engine, "introduced", f"{other}:{match['owner_id']}",
             {**names, "side": "item",
              "association_name": names["association_name"] if visible else None},
             match["id"])


def on_partner_answer(engine, match: dict, note: str | None) -> None:
    """A partner accepted or declined a match (inside its transaction): the region's
    coordinators are told, with the partner's reason and note."""
    names = _names(engine, match)
    if not names["region"]:
        return
    emit(engine, "partner_answered", f"region:{names['region']}",
         {**names, "answer": match["partner_answer"], "reason": match["partner_reason"],
          "note": note}, match["id"])


def on_comment(engine, match: dict, author) -> None:
    """A comment was added to the match's thread (inside its transaction): everyone else who
    may read the thread is told - the association, the item's side once it may see the match
    (a partner always, a practice's association once introduced), the region's coordinators
    - but not ``author``'s own audience. The comment's words stay in the thread."""
    names = _names(engine, match)
    told = [(f"association:{match['association_id']}", names)]
    if match["kind"] == "partner" or match["introduced_at"] is not None:
        other = "partner" if match["kind"] == "partner" else "association"
        visible = match["introduced_at"] is not None or not match.get("redacted")
        told.append((f"{other}:{match['owner_id']}",
                     {**names, "association_name": names["association_name"] if visible
                      else None}))
    if names["region"]:
        told.append((f"region:{names['region']}", names))
    own = set(audiences_of(author))
    for audience, params in told:
        if audience not in own:
            emit(engine, "commented", audience, params, match["id"])


def remind_stale(engine, days: int) -> int:
    """Remind the coordinators once of each match active ``days`` days without an outcome;
    returns how many reminders were written."""
    store = engine.store
    cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    told = 0
    for row in store.stale_active_matches(cutoff):
        with store.writing():
            if row["region"] is None or store.notified("reminder", row["id"]):
                continue
            match = store.get_match(row["id"])
            emit(engine, "reminder", f"region:{row['region']}",
                 {**_names(engine, match), "days": days}, row["id"])
            told += 1
    return told


def preference_table(store, subscriber: str) -> dict[tuple[str, str], bool]:
    """Every (event, channel) -> on, for ``subscriber`` (on unless switched off)."""
    changed = store.preferences(subscriber)
    return {(event, channel): changed.get((event, channel), True)
            for event in EVENTS for channel in CHANNELS}


def events_for(who) -> tuple[str, ...]:
    """The events a caller can be told of."""
    if who.association_id:
        return ("approved", "introduced", "commented")
    if who.partner_id:
        return ("introduced", "commented")
    return ("requested", "round_proposed", "reminder", "partner_answered", "commented")
