"""The exchange in bulk and organisation data rights, independent of HTTP.

Who may do what (the API's routes call these):

=========================  ==========================================================
bulk import                admins: anything. Coordinators: associations (with their
                           needs and practices) of their own regions only - every
                           association in the document, and the stored one it
                           updates, must be in one of their regions; a document with
                           partners or offerings is refused (partners are not
                           regional: admins import them, partners edit themselves).
bulk export                admins: everything. Coordinators: the associations of their
                           regions with needs and practices (sensitive texts included:
                           they may read them), and no partners - so that what they
                           export they may import again.
organisation data export   the association (or partner) itself, and admins: its
                           profile, matches, the audit rows and comments about them,
                           token and user metadata, the lessons of its matches and their
                           audit; an association's not-interested marks too.
organisation deletion      the same callers: removes it everywhere (see
                           :meth:`matcher.store.rights.RightsMixin.delete_association`).
=========================  ==========================================================

Records a caller may not see are reported missing (404), as in :mod:`matcher.policy`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from matcher import policy
from matcher.errors import Forbidden, InvalidInput, NotFound
from matcher.exchange import Exchange, dump_document, parse_document
from matcher.principals import Principal, Role
from matcher.ranking.embeddings import content_hash
from matcher.ranking.engine import Engine
from matcher.services import lessons
from matcher.store import ImportReport, Store
from matcher.store.rights import PSEUDONYM, DeletionReport  # noqa: F401  (re-exported)
from matcher.workflow import answers, lifecycle


# ---------------------------------------------------------------------- bulk import / export
def import_document(who: Principal, store: Store, doc: Exchange) -> ImportReport:
    """Upsert ``doc`` (already validated by :func:`matcher.exchange.parse_document`) for
    ``who``: all or nothing, permission checks included."""
    if who.is_admin:
        return store.import_exchange_checked(doc, lambda: None)
    if who.role is not Role.COORDINATOR:
        raise Forbidden("only admins and coordinators import exchange documents")
    if doc.partners:
        raise Forbidden(f"record {doc.partners[0].id!r}: coordinators import associations "
                        "only; partners and offerings are imported by admins")
    for association in doc.associations:
        if association.region not in who.regions:
            raise Forbidden(f"record {association.id!r}: region {association.region!r} is "
                            "not one of yours")
    return store.import_exchange_checked(doc, lambda: _check_stored(who, store, doc))


def _check_stored(who: Principal, store: Store, doc: Exchange) -> None:
    """A coordinator's document may update only what is stored in their regions, and may not
    learn, through an error, which association outside them owns an id it reuses."""
    ids = [a.id for a in doc.associations]
    for association_id, region in store.regions_of(ids).items():
        if region not in who.regions:
            raise Forbidden(f"record {association_id!r}: an association outside your regions "
                            "has this id")
    for table, attr in (("needs", "needs"), ("practices", "practices")):
        claimed = {child.id: a.id for a in doc.associations for child in getattr(a, attr)}
        parents = store.parents_of(table, list(claimed))
        elsewhere = {rid: parent for rid, parent in parents.items() if parent != claimed[rid]}
        if not elsewhere:
            continue
        regions = store.regions_of(sorted(set(elsewhere.values())))
        for rid, parent in elsewhere.items():
            if regions.get(parent) not in who.regions:
                raise InvalidInput("already belongs to an association outside your regions",
                                   record=rid, field="id")


def export_document(who: Principal, store: Store) -> dict:
    """The exchange document ``who`` may export (see the table above), JSON-ready."""
    doc = store.export_exchange()
    if who.is_admin:
        return dump_document(doc)
    if who.role is Role.COORDINATOR:
        return dump_document(Exchange(
            partners=[], associations=[a for a in doc.associations if a.region in who.regions]))
    raise Forbidden("only admins and coordinators export exchange documents")


# ---------------------------------------------------------------------- organisation data
def association_data(who: Principal, engine, association_id: str) -> dict:
    """Everything stored about one association, for itself or an admin: its profile, the
    matches involving it that the caller may see (as :func:`matcher.workflow.lifecycle.view` shows
    them, sensitive needs of others redacted), their audit rows and comments, its tokens' and
    users' metadata, the suggestions it said it is not interested in."""
    _own_association(who, engine.store, association_id)
    return {
        "exported_at": _now(),
        "association": engine.store.association_record(association_id),
        **_matches_and_audit(who, engine,
                             engine.store.matches_involving(association_id=association_id)),
        "tokens": engine.store.scoped_tokens("association_id", association_id),
        "users": engine.store.scoped_users("association_id", association_id),
        "not_interested": [{k: mark[k] for k in ("need_id", "kind", "item_id", "at")}
                           for mark in engine.store.not_interested_by(association_id)],
        "need_audit": [{k: row[k] for k in ("id", "need_id", "action", "actor", "role", "at",
                                             "note")}
                       for row in engine.store.need_audit(association_id=association_id)],
        **lessons.organisation_lessons(engine, who, association_id),
    }


def partner_data(who: Principal, engine, partner_id: str) -> dict:
    """Everything stored about one partner, for itself or an admin (see
    :func:`association_data`)."""
    _own_partner(who, engine.store, partner_id)
    return {
        "exported_at": _now(),
        "partner": engine.store.partner_record(partner_id),
        **_matches_and_audit(who, engine, engine.store.matches_involving(partner_id=partner_id)),
        "tokens": engine.store.scoped_tokens("partner_id", partner_id),
        "users": engine.store.scoped_users("partner_id", partner_id),
        **lessons.organisation_lessons(engine, who, partner_id),
    }


def _matches_and_audit(who: Principal, engine, rows: list[dict]) -> dict:
    visible = [m for m in rows if policy.can_see_match(
        who, m, engine.store.get("associations", m["association_id"]))]
    return {"matches": [lifecycle.view(engine, who, m) for m in visible],
            "audit": [row for m in visible
                      for row in lifecycle.audit_trail(engine, who, m["id"])],
            "comments": [row for m in visible
                         for row in answers.comments(engine, who, m["id"])]}


def delete_association(who: Principal, engine, association_id: str) -> dict:
    """Remove an association everywhere (itself or an admin); the report of what went.

    ``engine``: the :class:`matcher.ranking.engine.Engine` serving the store, whose embedded texts
    decide which vectors are still needed; its corpus refreshes on the bumped data version.
    """
    _own_association(who, engine.store, association_id)
    report = engine.store.delete_association(association_id, lambda: live_hashes(engine))
    return _finish(engine.store, report, association_id)


def delete_partner(who: Principal, engine, partner_id: str) -> dict:
    """Remove a partner and its offerings everywhere (itself or an admin)."""
    _own_partner(who, engine.store, partner_id)
    report = engine.store.delete_partner(partner_id, lambda: live_hashes(engine))
    return _finish(engine.store, report, partner_id)


def live_hashes(engine) -> set[str]:
    """Content hashes of every text the engine embeds (profiles and category prototypes)."""
    return {content_hash(text) for text in engine.vectors.texts()}


# ---------------------------------------------------------------------- helpers
def _own_association(who: Principal, store: Store, association_id: str) -> dict:
    if who.role not in (Role.ADMIN, Role.ASSOCIATION):
        raise Forbidden("only the association itself or an admin may do this")
    return policy.require_association(who, store.get("associations", association_id),
                                      association_id, write=True)


def _own_partner(who: Principal, store: Store, partner_id: str) -> dict:
    if who.role not in (Role.ADMIN, Role.PARTNER):
        raise Forbidden("only the partner itself or an admin may do this")
    return policy.require_partner(who, store.get("partners", partner_id), partner_id,
                                  write=True)


def _finish(store: Store, report: DeletionReport | None, record_id: str) -> dict:
    if report is None:  # deleted meanwhile by another request
        raise NotFound(f"no record with id {record_id!r}")
    store.checkpoint()
    return {"id": record_id, **asdict(report)}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def export_for(who: Principal, engine) -> dict:
    """:func:`export_document` of the engine's store (for the entry points)."""
    return export_document(who, engine.store)


def import_for(who: Principal, engine, doc: Exchange) -> ImportReport:
    """:func:`import_document` into the engine's store (for the entry points)."""
    return import_document(who, engine.store, doc)


def import_bytes(engine: Engine, who: Principal, body: bytes) -> ImportReport:
    """Parse and import an exchange document for ``who``, all or nothing (the route's work,
    also the admin's import page's): :class:`InvalidInput` names the first bad record and
    field, :class:`Forbidden` what ``who`` may not import, and nothing is written."""
    report = import_for(who, engine, _parse(body, engine.ref))
    if report.changed:
        engine.sync_embeddings()
    return report


def _parse(body: bytes, ref) -> Exchange:
    try:
        return parse_document(body, ref)
    except RecursionError:  # json.loads on thousands of nested brackets
        raise InvalidInput("malformed JSON: nested too deeply") from None
