"""Who may see or change what: object-level rules, independent of HTTP.

Records a caller may not see at all are reported as missing (``NotFound``), so that ids of other
organisations never leak; records it may see but not change raise ``Forbidden``.
"""

from __future__ import annotations

from matcher.auth import Principal, Role
from matcher.errors import Forbidden, NotFound


def can_see_association(who: Principal, association: dict) -> bool:
    """Admins; the region's coordinators; the association itself. Partners see associations
    only through matches that involve their offerings (checked where matches are read)."""
    return (who.covers_region(association.get("region"))
            or (who.role is Role.ASSOCIATION and who.association_id == association["id"]))


def can_edit_association(who: Principal, association_id: str) -> bool:
    return who.is_admin or (who.role is Role.ASSOCIATION and who.association_id == association_id)


def can_edit_partner(who: Principal, partner_id: str) -> bool:
    return who.is_admin or (who.role is Role.PARTNER and who.partner_id == partner_id)


def require_association(who: Principal, association: dict | None, record_id: str,
                        write: bool = False) -> dict:
    """The association if ``who`` may see (and with ``write``, change) it."""
    if association is None or not can_see_association(who, association):
        raise NotFound(f"no association with id {record_id!r}")
    if write and not can_edit_association(who, association["id"]):
        raise Forbidden("only the association itself or an admin may change it")
    return association


def require_suggestions(who: Principal, association: dict | None, record_id: str) -> dict:
    """Suggestions are for the association itself, its region's coordinators and admins."""
    if who.role is Role.PARTNER:
        raise Forbidden("partners do not ask for suggestions")
    return require_association(who, association, record_id)
