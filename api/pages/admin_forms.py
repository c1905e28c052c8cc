"""What the admin's account forms share: admins only, the role-and-scope fields of a new user
or token (checked by :func:`matcher.accounts.users.check_scope`), and their messages in words the
pages translate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.pages.deps import SignedInDep
from api.pages.forms import Message
from api.pages.i18n import N_
from api.pages.render import ROLE_NAMES
from api.pages.session import PageNotFound
from matcher.accounts.users import BadScope, Scope
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import accounts as account_service
from matcher.services import profiles


def require_admin(who: SignedInDep) -> Principal:
    """The signed-in admin; every other role sees the not-found page (nothing leaks)."""
    if who.role is not Role.ADMIN:
        raise PageNotFound()
    return who


AdminDep = Annotated[Principal, Depends(require_admin)]

SCOPE_MESSAGES = {
    "role": N_("Choose one of the roles."),
    "extra": N_("This does not apply to the role chosen: leave it empty."),
    "missing:association": N_("An association member needs their association."),
    "missing:partner": N_("A partner member needs their partner organisation."),
    "missing:regions": N_("A coordinator needs at least one region."),
    "unknown_association": N_("There is no such association."),
    "unknown_partner": N_("There is no such partner."),
    "unknown_region": N_("There is no such region."),
}


def scope_values(form: dict[str, str]) -> dict:
    """The role and scope fields as posted (kept to fill the form in again). Each region is a
    checkbox of its own, ``region-<id>``."""
    return {"role": form.get("role", ""), "association": form.get("association", ""),
            "partner": form.get("partner", ""),
            "regions": sorted(key.removeprefix("region-") for key, value in form.items()
                              if key.startswith("region-") and value)}


def checked_scope(engine: Engine, values: dict, errors: dict[str, Message]) -> Scope | None:
    """The scope of ``values``, or None with the problem added to ``errors`` by field."""
    try:
        return account_service.check_scope(engine, values["role"],
                                           association=values["association"],
                                           partner=values["partner"], regions=values["regions"])
    except BadScope as exc:
        key = f"{exc.code}:{exc.field}" if exc.code == "missing" else exc.code
        errors[exc.field or "role"] = Message(SCOPE_MESSAGES[key])
        return None


def scope_choices(engine: Engine, lang: str) -> dict:
    """What the role and scope fields offer: roles, associations, partners and regions."""
    return {
        "roles": [(role.value, ROLE_NAMES[role]) for role in Role],
        "associations": sorted(((a["id"], a["name"]) for a in profiles.associations(engine)),
                               key=lambda item: item[1].lower()),
        "partners": sorted(((p["id"], p["name"]) for p in profiles.partners(engine)),
                           key=lambda item: item[1].lower()),
        "regions": [(r, engine.ref.region_label(r, lang)) for r in engine.ref.regions],
    }


def describe_scope(engine: Engine, lang: str, record: dict) -> str:
    """A user's or token's scope in words: its association, its partner or its regions."""
    if record["association_id"]:
        association = profiles.get(engine, "associations", record["association_id"])
        return association["name"] if association else record["association_id"]
    if record["partner_id"]:
        partner = profiles.get(engine, "partners", record["partner_id"])
        return partner["name"] if partner else record["partner_id"]
    return ", ".join(engine.ref.region_label(r, lang) for r in record["regions"])
