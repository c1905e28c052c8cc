"""Profiles: create, read, change, delete and list associations, partners, needs, practices
and offerings, for one caller.

Each use-case takes the caller (a :class:`~matcher.principals.Principal`) and plain data (the
fields a client may set, as JSON-ready dicts), asks :mod:`matcher.policy`, validates by the
import's own rules (:func:`to_exchange`), writes through the engine (a text is embedded and
written with its record in one transaction) and returns the stored row. The API's routes and
the web pages both call these; neither touches the store.

Errors: :class:`~matcher.errors.NotFound` for what the caller may not see, ``Forbidden`` for
what it sees but may not change, ``InvalidInput`` naming the field (never quoting a text),
``Conflict`` when the data clashes with what is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from matcher import policy
from matcher.errors import Forbidden
from matcher.exchange import (
    Association,
    Exchange,
    Need,
    Partner,
    Practice,
    parse_document,
)
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.reference import Reference
from matcher.store import Claim
from matcher.store.profiles import RELEVANCE, SORTABLE, ProfileQuery, offering_record
from matcher.workflow.sensitive import neutral_summary

__all__ = ["SORTABLE", "Claim", "ProfileQuery", "offering_record"]


# ---------------------------------------------------------------------- records
def new_id(prefix: str) -> str:
    """A fresh record id (``a-3f9c0e1b2d4a``) for a record created without one."""
    return f"{prefix}-{secrets.token_hex(6)}"


def association_record(row: dict) -> dict:
    return {k: row[k] for k in Association.model_fields if k in row}


def partner_record(row: dict) -> dict:
    return {k: row[k] for k in Partner.model_fields if k in row}


def need_record(row: dict) -> dict:
    return {k: row[k] for k in Need.model_fields if k in row}


def practice_record(row: dict) -> dict:
    return {k: row[k] for k in Practice.model_fields if k in row}


def to_exchange(ref: Reference, *, association: dict | None = None,
                partner: dict | None = None, need: dict | None = None,
                practice: dict | None = None, offering: dict | None = None) -> Exchange:
    """Check records by the import's own rules (types, limits, vocabularies, a region from the
    country when missing): an association with at most one need or practice, or a partner
    with at most one offering. Raises :class:`~matcher.errors.InvalidInput` naming the field;
    free texts are never echoed."""
    doc: dict[str, Any] = {}
    if association is not None:
        doc["associations"] = [{**association, "needs": [need] if need else [],
                                "practices": [practice] if practice else []}]
    if partner is not None:
        doc["partners"] = [{**partner, "offerings": [offering] if offering else []}]
    return parse_document(doc, ref)


# ---------------------------------------------------------------------- reads
def list_records(engine: Engine, table: str, query: ProfileQuery) -> tuple[list[dict], int]:
    """One page of ``table`` as ``query`` selects it (its ``scope`` limits private records),
    and how many it selects in all. Callers read each row as the policy lets them."""
    return engine.store.list_records(table, query)


def association(engine: Engine, who: Principal, association_id: str) -> tuple[dict, str]:
    """The association and how much of it ``who`` may read (``full`` or ``public``)."""
    row = engine.store.get("associations", association_id)
    return row, policy.require_association_view(who, row, association_id)  # type: ignore[return-value]


def association_of(engine: Engine, association_id: str) -> dict | None:
    """The association row (for showing a record the caller was already allowed)."""
    return engine.store.get("associations", association_id)


def partner(engine: Engine, who: Principal, partner_id: str) -> dict:
    return policy.require_partner(who, engine.store.get("partners", partner_id), partner_id)


def offering(engine: Engine, who: Principal, offering_id: str) -> dict:
    return policy.require_offering(who, engine.store.get("offerings", offering_id),
                                   offering_id)


def need(engine: Engine, who: Principal, need_id: str, write: bool = False
         ) -> tuple[dict, dict]:
    """The need and its association if ``who`` may read it (with ``write``: change it)."""
    return _with_association(engine, "needs", need_id, policy.require_need, who, write)


def practice(engine: Engine, who: Principal, practice_id: str, write: bool = False
             ) -> tuple[dict, dict]:
    """The practice and its association if ``who`` may read it (and change it)."""
    return _with_association(engine, "practices", practice_id, policy.require_practice, who,
                             write)


def _with_association(engine: Engine, table: str, record_id: str, require, who: Principal,
                      write: bool) -> tuple[dict, dict]:
    row = engine.store.get(table, record_id)
    parent = row and engine.store.get("associations", row["association_id"])
    require(who, row, parent, record_id, write=write)
    return row, parent  # type: ignore[return-value]


# ---------------------------------------------------------------------- associations
def create_association(engine: Engine, who: Principal, data: dict,
                       claim: Claim | None = None) -> dict:
    """A new association (admins; coordinators in their own regions)."""
    record = {**data, "id": data.get("id") or new_id("a")}
    created = to_exchange(engine.ref, association=record).associations[0]
    if not policy.can_create_association(who, created.region):
        raise Forbidden("coordinators create associations in their own regions only")
    return engine.create_record("associations", created, claim=claim)


def change_association(engine: Engine, who: Principal, association_id: str,
                       changes: dict) -> dict:
    """Apply ``changes`` to an association's profile (checked by the import's rules); a new
    country brings its region, which only admins and coordinators of both regions may do."""
    row = policy.require_manage_association(
        who, engine.store.get("associations", association_id), association_id)
    changes = dict(changes)
    if "country" in changes:  # the region is the country's network, never stale
        changes["region"] = engine.ref.region_of(changes["country"])
    if not policy.can_move_association(who, row["region"], changes.get("region", row["region"])):
        raise Forbidden("only admins and coordinators of both regions move an association to "
                        "another region")
    if changes:
        record = {**association_record(row), **changes}
        row = engine.store.update_record(
            "associations", to_exchange(engine.ref, association=record).associations[0])
    return row


# ---------------------------------------------------------------------- partners
def create_partner(engine: Engine, who: Principal, data: dict,
                   claim: Claim | None = None) -> dict:
    """A new partner (admins only: the API guards the operation by role)."""
    record = {**data, "id": data.get("id") or new_id("p")}
    return engine.create_record("partners", to_exchange(engine.ref, partner=record).partners[0],
                                claim=claim)


def change_partner(engine: Engine, who: Principal, partner_id: str, changes: dict) -> dict:
    """Apply ``changes`` to a partner's profile (the partner itself, admins)."""
    row = policy.require_partner(who, engine.store.get("partners", partner_id), partner_id,
                                 write=True)
    if changes:
        record = to_exchange(engine.ref, partner={**partner_record(row), **changes})
        row = engine.store.update_record("partners", record.partners[0])
    return row


# ---------------------------------------------------------------------- needs
def add_need(engine: Engine, who: Principal, association_id: str, data: dict,
             claim: Claim | None = None) -> dict:
    """Add a need to an association ``who`` may manage, with its vectors; the stored row
    (under a ``claim`` made before, the need it created)."""
    parent = policy.require_manage_association(
        who, engine.store.get("associations", association_id), association_id)
    doc = to_exchange(engine.ref, association=association_record(parent),
                      need={**data, "id": new_id("n")})
    return engine.create_record("needs", doc.associations[0].needs[0], association_id, claim)


def change_need(engine: Engine, who: Principal, need_id: str, changes: dict
                ) -> tuple[dict, dict]:
    """Apply ``changes`` to a need ``who`` may change; the stored need and its association.
    ``sensitive: false`` on a confidential need is the one way to clear it: explicit, by
    those who may change the need, and audited."""
    row, parent = need(engine, who, need_id, write=True)
    if changes:
        doc = to_exchange(engine.ref, association=association_record(parent),
                          need={**need_record(row), **changes})
        row = engine.update_record("needs", doc.associations[0].needs[0])
    if changes.get("sensitive") is False and row["confidential"]:
        row = engine.store.clear_confidential(
            need_id, actor=who.actor, role=who.role.value,
            actor_org=who.association_id or who.partner_id)
    return row, parent


def remove_need(engine: Engine, who: Principal, need_id: str) -> None:
    """Delete a need ``who`` may change; Conflict while matches refer to it."""
    need(engine, who, need_id, write=True)
    engine.store.delete_record("needs", need_id)


# ---------------------------------------------------------------------- practices
def add_practice(engine: Engine, who: Principal, association_id: str, data: dict,
                 claim: Claim | None = None) -> dict:
    """Add a practice to an association ``who`` may manage, with its vectors."""
    parent = policy.require_manage_association(
        who, engine.store.get("associations", association_id), association_id)
    doc = to_exchange(engine.ref, association=association_record(parent),
                      practice={**data, "id": new_id("pr")})
    return engine.create_record("practices", doc.associations[0].practices[0],
                                association_id, claim)


def change_practice(engine: Engine, who: Principal, practice_id: str, changes: dict) -> dict:
    """Apply ``changes`` to a practice ``who`` may change; the stored row."""
    row, parent = practice(engine, who, practice_id, write=True)
    if changes:
        doc = to_exchange(engine.ref, association=association_record(parent),
                          practice={**practice_record(row), **changes})
        row = engine.update_record("practices", doc.associations[0].practices[0])
    return row


def remove_practice(engine: Engine, who: Principal, practice_id: str) -> None:
    """Delete a practice ``who`` may change; Conflict while matches refer to it."""
    practice(engine, who, practice_id, write=True)
    engine.store.delete_record("practices", practice_id)


# ---------------------------------------------------------------------- offerings
def add_offering(engine: Engine, who: Principal, partner_id: str, data: dict,
                 claim: Claim | None = None) -> dict:
    """Add an offering to a partner (the partner itself, admins), with its vectors."""
    owner = policy.require_partner(who, engine.store.get("partners", partner_id), partner_id,
                                   write=True)
    doc = to_exchange(engine.ref, partner=partner_record(owner),
                      offering={**data, "id": new_id("o")})
    return engine.create_record("offerings", doc.partners[0].offerings[0], partner_id, claim)


def change_offering(engine: Engine, who: Principal, offering_id: str, changes: dict) -> dict:
    """Apply ``changes`` to an offering (the partner itself, admins); the stored row."""
    row = policy.require_offering(who, engine.store.get("offerings", offering_id), offering_id,
                                  write=True)
    if changes:
        owner = engine.store.get("partners", row["partner_id"])
        record = {**offering_record(row).model_dump(mode="json"), **changes}
        doc = to_exchange(engine.ref, partner=partner_record(owner), offering=record)
        row = engine.update_record("offerings", doc.partners[0].offerings[0])
    return row


def remove_offering(engine: Engine, who: Principal, offering_id: str) -> None:
    """Delete an offering (the partner itself, admins); Conflict while matches refer to it."""
    policy.require_offering(who, engine.store.get("offerings", offering_id), offering_id,
                            write=True)
    engine.store.delete_record("offerings", offering_id)


# ---------------------------------------------------------------------- one door per kind
# The API's five profile resources go through these: ``kind`` is the table (``needs``...),
# and every answer is a *view*, the record as ``who`` may read it.
KINDS = ("associations", "partners", "needs", "practices", "offerings")
OWNER_OF = {"needs": "associations", "practices": "associations", "offerings": "partners"}


def view(engine: Engine, who: Principal, kind: str, row: dict, lang: str = "en",
         association: dict | None = None) -> dict:
    """``row`` as ``who`` may read it (the caller was allowed the record itself):

    - an association: ``visibility`` full or public, its contact only when full;
    - a partner: its contact only for the partner itself, coordinators and admins;
    - a need: a sensitive need's text only for those allowed, else its neutral summary in
      ``lang`` (``text_hidden``), and whether it is confidential (``sensitive``);
    - an offering: the exchange record and its partner.
    """
    if kind == "associations":
        visibility = policy.require_association_view(who, row, row["id"])
        return {**row, "contact": row.get("contact") if visibility == "full" else None,
                "visibility": visibility}
    if kind == "partners":
        return {**row, "contact": row.get("contact")
                if policy.can_see_partner_contact(who, row["id"]) else None}
    if kind == "needs":
        association = association or association_of(engine, row["association_id"]) or {}
        sensitive = engine.is_sensitive(row["id"])
        text, hidden = row["text"], False
        if not policy.can_read_need_text(who, association, sensitive):
            category = row["category"] or engine.need_category(row["id"])[0]
            text, hidden = neutral_summary(category, association, engine.ref, lang), True
        return {**row, "text": text, "text_hidden": hidden, "sensitive": sensitive}
    if kind == "offerings":
        return {**offering_record(row).model_dump(), "partner_id": row["partner_id"]}
    return row


def page(engine: Engine, who: Principal, kind: str, query: ProfileQuery, lang: str = "en"
         ) -> tuple[list[dict], int]:
    """One page of ``kind`` as ``query`` selects it, each record as ``who`` may read it, and
    how many records the query selects in all. Needs are limited to those whose text the
    caller may read, so ``q`` never matches a hidden text."""
    if kind == "needs":
        query = replace(query, scope=policy.need_scope(who))
    rows, total = list_records(engine, kind, query)
    parents: dict[str, dict] = {}
    views = []
    for row in rows:
        parent = None
        if kind == "needs":
            aid = row["association_id"]
            parent = parents.get(aid) or association_of(engine, aid)
            parents[aid] = parent  # type: ignore[assignment]
            policy.require_need(who, row, parent, row["id"])
        views.append(view(engine, who, kind, row, lang, parent))
    return views, total


def read(engine: Engine, who: Principal, kind: str, record_id: str, lang: str = "en") -> dict:
    """One record as ``who`` may read it; NotFound if it may not be seen at all."""
    if kind == "associations":
        return view(engine, who, kind, association(engine, who, record_id)[0], lang)
    if kind in ("needs", "practices"):
        row, parent = (need if kind == "needs" else practice)(engine, who, record_id)
        return view(engine, who, kind, row, lang, parent)
    row = (partner if kind == "partners" else offering)(engine, who, record_id)
    return view(engine, who, kind, row, lang)


def create(engine: Engine, who: Principal, kind: str, data: dict, owner_id: str | None = None,
           claim: Claim | None = None) -> dict:
    """A new record of ``kind`` (under its owner's id for needs, practices and offerings),
    as ``who`` reads it."""
    if kind == "associations":
        row = create_association(engine, who, data, claim)
    elif kind == "partners":
        row = create_partner(engine, who, data, claim)
    else:
        add = {"needs": add_need, "practices": add_practice, "offerings": add_offering}[kind]
        row = add(engine, who, owner_id, data, claim)  # type: ignore[arg-type]
    return view(engine, who, kind, row)


def change(engine: Engine, who: Principal, kind: str, record_id: str, changes: dict) -> dict:
    """Apply ``changes`` to a record ``who`` may change; the record as ``who`` reads it."""
    if kind == "needs":
        row, parent = change_need(engine, who, record_id, changes)
        return view(engine, who, kind, row, association=parent)
    change_one = {"associations": change_association, "partners": change_partner,
                  "practices": change_practice, "offerings": change_offering}[kind]
    return view(engine, who, kind, change_one(engine, who, record_id, changes))


def remove(engine: Engine, who: Principal, kind: str, record_id: str) -> None:
    """Delete a need, practice or offering ``who`` may change; Conflict while matches refer
    to it. (Associations and partners leave through the data-rights erasure.)"""
    {"needs": remove_need, "practices": remove_practice,
     "offerings": remove_offering}[kind](engine, who, record_id)


# ---------------------------------------------------------------------- what pages read
def get(engine: Engine, table: str, record_id: str) -> dict | None:
    """One stored record, unchecked: for callers that apply the policy themselves (a page
    that shows only the caller's own records)."""
    return engine.store.get(table, record_id)


def associations(engine: Engine) -> list[dict]:
    return engine.store.associations()


def partners(engine: Engine) -> list[dict]:
    return engine.store.partners()


def needs_of(engine: Engine, association_id: str) -> list[dict]:
    """An association's needs, in its own order."""
    return engine.store.needs(association_id)


def practices_of(engine: Engine, association_id: str) -> list[dict]:
    """An association's practices, in its own order."""
    return [p for p in engine.store.practices() if p["association_id"] == association_id]


def offerings_of(engine: Engine, partner_id: str) -> list[dict]:
    """A partner's offerings, in its own order."""
    return engine.store.offerings(partner_id)


def capacity_used(engine: Engine) -> dict[str, int]:
    """Slots in use per offering (approved, introduced and active matches)."""
    return engine.store.capacity_used()


# ---------------------------------------------------------------------- search
SEARCH_KINDS = ("needs", "offerings", "practices")


def search(engine: Engine, who: Principal, q: str, lang: str = "en", limit: int = 20
           ) -> dict[str, tuple[list[dict], int]]:
    """The needs, offerings and practices whose text matches ``q`` (full-text, accents and
    case folded: see :class:`ProfileQuery`), each as ``who`` may read it, per kind the caller
    may list: needs only where it may read them (partners none), practices for every role but
    partners. At most ``limit`` records per kind, the best matches first, and how many
    match in all."""
    found: dict[str, tuple[list[dict], int]] = {}
    for kind in SEARCH_KINDS:
        if kind == "needs" and policy.need_scope(who).nothing:
            continue
        if kind == "practices" and not policy.can_read_practices(who):
            continue
        found[kind] = page(engine, who, kind,
                           ProfileQuery(q=q, limit=limit, sort=RELEVANCE), lang)
    return found


# ---------------------------------------------------------------------- completeness
REACHABLE_BY = ("phone", "whatsapp", "email")  # a contact anyone can be reached by


def profile_gaps(kind: str, row: dict) -> list[str]:
    """What an association's or a partner's profile still lacks, in the order a page asks
    for it: ``contact`` (no phone, WhatsApp or e-mail: nobody can be introduced to them),
    ``languages`` (suggestions weigh shared languages), ``members`` (associations: offerings'
    eligibility counts them) and ``description``."""
    contact = row.get("contact") or {}
    gaps = [] if any(contact.get(key) for key in REACHABLE_BY) else ["contact"]
    if not row.get("languages"):
        gaps.append("languages")
    if kind == "associations" and not row.get("members"):
        gaps.append("members")
    if not (row.get("description") or "").strip():
        gaps.append("description")
    return gaps
