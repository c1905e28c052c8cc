"""Who may see or change what: object-level rules, independent of HTTP.

Records a caller may not see at all are reported as missing (``NotFound``), so that ids of other
organisations never leak; records it may see but not change raise ``Forbidden``.

The profile rules (the API's routes call these; ``tests/test_authz.py`` enforces them):

==================  ==============================================  ===================================
record              who may read it                                 who may create / change / delete it
==================  ==============================================  ===================================
association (full:  admins; its region's coordinators; the          create: admins, and coordinators of
with its contact)   association itself                              its region; change: the same plus
                                                                    the association itself (but only
association         also every other association and every          admins and coordinators of the old
(public profile)    coordinator, whatever their region (peer        and the new region move it to
                    learning across the network)                    another region); delete: see the
                                                                    organisation data-rights routes
need                admins; its region's coordinators; its          the same people
                    association (nobody else, by any route here)
practice            every role but partners (peer learning)         its association, its region's
                                                                    coordinators, admins
partner             every role (a marketplace); its contact only    create: admins; change: the partner
                    the partner itself, coordinators and admins     itself and admins
offering            every role                                      the partner itself and admins
==================  ==============================================  ===================================

Partners never see associations, needs or practices through the profile routes (404): they meet
associations through the matches that involve their offerings.

Sensitive needs (:mod:`matcher.workflow.sensitive`): the text is readable by its association, its region's
coordinators and admins - exactly who may read the need at all above, so the profile routes never
need to hide it; anyone else ever shown such a need (a partner, through a match) gets the neutral
summary instead (:func:`can_read_need_text`).
"""

from __future__ import annotations

from typing import Literal

from matcher.errors import Forbidden, NotFound
from matcher.principals import Principal, Role
from matcher.store.profiles import Scope
from matcher.vocabulary import REVIEWER

FULL = "full"
PUBLIC = "public"
View = Literal["full", "public"]


# ---------------------------------------------------------------------- associations
def can_see_association(who: Principal, association: dict) -> bool:
    """Admins; the region's coordinators; the association itself. Partners see associations
    only through matches that involve their offerings (checked where matches are read)."""
    return (who.covers_region(association.get("region"))
            or (who.role is Role.ASSOCIATION and who.association_id == association["id"]))


def can_edit_association(who: Principal, association_id: str) -> bool:
    """Acting *as* the association (e.g. accepting an introduction): itself or an admin."""
    return who.is_admin or (who.role is Role.ASSOCIATION and who.association_id == association_id)


def association_view(who: Principal, association: dict) -> View | None:
    """``"full"`` (contact, needs) for those of :func:`can_see_association`; the ``"public"``
    profile for other associations and coordinators of other regions; None for partners."""
    if can_see_association(who, association):
        return FULL
    if who.role in (Role.ASSOCIATION, Role.COORDINATOR):
        return PUBLIC
    return None


def can_manage_association(who: Principal, association: dict) -> bool:
    """Change an association's profile, needs and practices: the association itself, its
    region's coordinators, admins."""
    return can_edit_association(who, association["id"]) or who.covers_region(
        association.get("region"))


def can_create_association(who: Principal, region: str | None) -> bool:
    """Admins anywhere; coordinators in their own regions."""
    return who.covers_region(region)


def can_move_association(who: Principal, old_region: str | None, new_region: str | None) -> bool:
    """Only admins, and coordinators of both regions, move an association between regions."""
    return old_region == new_region or (who.covers_region(old_region)
                                        and who.covers_region(new_region))


def require_association(who: Principal, association: dict | None, record_id: str,
                        write: bool = False) -> dict:
    """The association if ``who`` may see it in full (and with ``write``, act as it)."""
    if association is None or not can_see_association(who, association):
        raise NotFound(f"no association with id {record_id!r}")
    if write and not can_edit_association(who, association["id"]):
        raise Forbidden("only the association itself or an admin may change it")
    return association


def require_association_view(who: Principal, association: dict | None,
                             record_id: str) -> View:
    """How much of the association ``who`` may read; NotFound when nothing."""
    view = association_view(who, association) if association is not None else None
    if view is None:
        raise NotFound(f"no association with id {record_id!r}")
    return view


def require_manage_association(who: Principal, association: dict | None,
                               record_id: str) -> dict:
    """The association if ``who`` may change its profile, needs and practices: NotFound when
    it may not see it at all, Forbidden when it sees only the public profile."""
    require_association_view(who, association, record_id)
    assert association is not None
    if not can_manage_association(who, association):
        raise Forbidden("only the association itself, its region's coordinators or an admin "
                        "may change it")
    return association


def require_suggestions(who: Principal, association: dict | None, record_id: str) -> dict:
    """Suggestions are for the association itself, its region's coordinators and admins."""
    if who.role is Role.PARTNER:
        raise Forbidden("partners do not ask for suggestions")
    return require_association(who, association, record_id)


# ---------------------------------------------------------------------- needs and practices
def can_read_needs(who: Principal, association: dict) -> bool:
    """An association's needs: itself, its region's coordinators, admins."""
    return can_see_association(who, association)


def can_read_need_text(who: Principal, association: dict, sensitive: bool) -> bool:
    """Everyone who may see a need reads its text, unless it is sensitive: then only its
    association, its region's coordinators and admins; others get the neutral summary."""
    return not sensitive or can_see_association(who, association)


def require_need(who: Principal, need: dict | None, association: dict | None, record_id: str,
                 write: bool = False) -> dict:
    """The need if ``who`` may read (and with ``write``, change) it; NotFound otherwise (the
    readers and the writers of needs are the same people)."""
    if need is None or association is None or not can_read_needs(who, association) or (
            write and not can_manage_association(who, association)):
        raise NotFound(f"no need with id {record_id!r}")
    return need


def can_read_practices(who: Principal) -> bool:
    """Practices are for peer learning: every role but partners."""
    return who.role is not Role.PARTNER


def require_practice(who: Principal, practice: dict | None, association: dict | None,
                     record_id: str, write: bool = False) -> dict:
    if practice is None or association is None or not can_read_practices(who):
        raise NotFound(f"no practice with id {record_id!r}")
    if write and not can_manage_association(who, association):
        raise Forbidden("only the association itself, its region's coordinators or an admin "
                        "may change its practices")
    return practice


def need_scope(who: Principal) -> Scope:
    """The needs ``who`` may list: the same as :func:`can_read_needs`, as a query scope."""
    if who.is_admin:
        return Scope(everything=True)
    if who.role is Role.COORDINATOR:
        return Scope(regions=who.regions)
    if who.role is Role.ASSOCIATION and who.association_id:
        return Scope(association_id=who.association_id)
    return Scope()


# ---------------------------------------------------------------------- partners and offerings
def can_edit_partner(who: Principal, partner_id: str) -> bool:
    return who.is_admin or (who.role is Role.PARTNER and who.partner_id == partner_id)


def can_see_partner_contact(who: Principal, partner_id: str) -> bool:
    """A partner's contact: the partner itself, coordinators (they make introductions), admins."""
    return can_edit_partner(who, partner_id) or who.role is Role.COORDINATOR


def require_partner(who: Principal, partner: dict | None, record_id: str,
                    write: bool = False) -> dict:
    """Every caller sees every partner; only the partner itself and admins change it."""
    if partner is None:
        raise NotFound(f"no partner with id {record_id!r}")
    if write and not can_edit_partner(who, partner["id"]):
        raise Forbidden("only the partner itself or an admin may change it")
    return partner


def require_offering(who: Principal, offering: dict | None, record_id: str,
                     write: bool = False) -> dict:
    """Every caller sees every offering; only its partner and admins change it."""
    if offering is None:
        raise NotFound(f"no offering with id {record_id!r}")
    if write and not can_edit_partner(who, offering["partner_id"]):
        raise Forbidden("only the partner itself or an admin may change its offerings")
    return offering


# ---------------------------------------------------------------------- matches
def can_see_match(who: Principal, match: dict, association: dict | None) -> bool:
    """Admins every match; coordinators those of their regions; an association its own
    matches (and peer matches on its practices once introduced); a partner those on its
    offerings."""
    if who.is_admin:
        return True
    if who.role is Role.COORDINATOR:
        return association is not None and who.covers_region(association.get("region"))
    if who.role is Role.ASSOCIATION:
        return (match["association_id"] == who.association_id
                or (match["kind"] == "peer" and match["owner_id"] == who.association_id
                    and match["introduced_at"] is not None))
    return match["kind"] == "partner" and match["owner_id"] == who.partner_id


def may_act_on_match(who: Principal, by: str, match: dict, association: dict | None) -> bool:
    """Whether ``who`` may perform an action done ``by`` a reviewer (a coordinator of the
    association's region) or by the association itself; admins may do both."""
    if who.is_admin:
        return True
    if by == REVIEWER:
        return association is not None and who.covers_region(association.get("region"))
    return who.role is Role.ASSOCIATION and who.association_id == match["association_id"]


def may_answer_match(who: Principal, match: dict) -> bool:
    """Whether ``who`` may accept or decline ``match`` as its partner: the partner whose
    offering it is, or an admin."""
    if who.is_admin:
        return match["kind"] == "partner"
    return (who.role is Role.PARTNER and match["kind"] == "partner"
            and match["owner_id"] == who.partner_id)


def may_be_redacted_for(who: Principal, match: dict, association: dict | None) -> bool:
    """Whether ``who`` reads the match redacted if its need is confidential: anyone outside
    the association, its region's coordinators and admins, until the association accepted
    the introduction."""
    if match["introduced_at"] is not None:
        return False
    return association is None or not can_see_association(who, association)


# ---------------------------------------------------------------------- match rounds
def round_regions(who: Principal, asked: list[str] | None, every: list[str]) -> list[str]:
    """The regions a match round of ``who`` covers: a coordinator's own (or those of them it
    asks for), any for admins; Forbidden for other roles and for regions not theirs."""
    if who.role not in (Role.ADMIN, Role.COORDINATOR):
        raise Forbidden("only coordinators and admins run match rounds")
    regions = list(dict.fromkeys(asked)) if asked else [r for r in every if who.covers_region(r)]
    outside = [r for r in regions if not who.covers_region(r)]
    if outside:
        raise Forbidden("coordinators run rounds in their own regions only")
    return regions


def can_see_round(who: Principal, regions: list[str]) -> bool:
    """A round is seen by admins and by coordinators of every region it covered."""
    return who.is_admin or (who.role is Role.COORDINATOR
                            and all(who.covers_region(r) for r in regions))


# ---------------------------------------------------------------------- partners finding needs
def require_offering_needs(who: Principal, offering: dict | None, record_id: str) -> dict:
    """Who may see the needs an offering fits: its partner, coordinators, admins."""
    if offering is None or (who.role is Role.PARTNER and who.partner_id != offering["partner_id"]):
        raise NotFound(f"no offering with id {record_id!r}")
    if who.role not in (Role.ADMIN, Role.COORDINATOR, Role.PARTNER):
        raise Forbidden("only the offering's partner, coordinators and admins look for the "
                        "needs it fits")
    return offering


def offering_needs_regions(who: Principal) -> frozenset[str] | None:
    """Whose needs an offering's list holds: a coordinator's regions; None for any."""
    return who.regions if who.role is Role.COORDINATOR else None
