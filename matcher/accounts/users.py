"""Who a new web user or API token stands for: a role and the scope that goes with it.

One check for every way accounts are made (``matcher user create``, ``matcher token create``
and the admin's pages): an association member names an existing association, a partner an
existing partner, a coordinator one or more known regions, an admin nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from matcher.accounts.passwords import check_strength, hash_password, verify_password
from matcher.errors import InvalidInput
from matcher.principals import Role, normalise_username
from matcher.store import Store

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")

# The input each part of a scope comes from; the CLI names them after its options.
FIELDS: Mapping[str, str] = {"role": "role", "association": "association",
                             "partner": "partner", "regions": "regions"}
# Which part of the scope each role needs.
NEEDS = {Role.ASSOCIATION: "association", Role.PARTNER: "partner", Role.COORDINATOR: "regions"}


class BadScope(InvalidInput):
    """A role or scope that does not fit. ``reason`` says why in words of its own (with the
    input names given to :func:`check_scope`), ``code`` which rule it broke (for translated
    messages): ``role``, ``missing``, ``extra``, ``unknown_association``, ``unknown_partner``
    or ``unknown_region``; ``field`` names the part of the scope it is about."""

    def __init__(self, reason: str, *, code: str, field: str):
        super().__init__(reason, field=field)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Scope:
    """A checked role and scope, ready for ``Store.create_user`` or ``Store.create_token``."""

    role: Role
    association_id: str | None = None
    partner_id: str | None = None
    regions: list[str] = field(default_factory=list)

    def as_kwargs(self) -> dict:
        """The scope as the store's keyword arguments (without the role)."""
        return {"association_id": self.association_id, "partner_id": self.partner_id,
                "regions": list(self.regions)}


def check_scope(store: Store, known_regions: Iterable[str], role: str | Role, *,
                association: str | None = None, partner: str | None = None,
                regions: Iterable[str] | None = None,
                names: Mapping[str, str] = FIELDS) -> Scope:
    """The :class:`Scope` of ``role`` with its association, partner or regions, or
    :class:`BadScope` on the first problem (the role first, then parts given that do not
    apply, a missing part, and parts that do not exist)."""
    try:
        parsed = Role(role)
    except ValueError:
        raise BadScope(f"{names['role']} must be one of: {', '.join(r.value for r in Role)}",
                       code="role", field="role") from None
    chosen = {"association": association or None, "partner": partner or None,
              "regions": sorted(set(regions or [])) or None}
    extra = [part for part, value in chosen.items() if value and NEEDS.get(parsed) != part]
    if extra:
        raise BadScope(f"{', '.join(names[part] for part in extra)} does not apply to role "
                       f"{parsed.value}", code="extra", field=extra[0])
    wanted = NEEDS.get(parsed)
    if wanted and not chosen[wanted]:
        raise BadScope(f"role {parsed.value} needs {names[wanted]}", code="missing",
                       field=wanted)
    if association and store.get("associations", association) is None:
        raise BadScope(f"no association with id {association!r}", code="unknown_association",
                       field="association")
    if partner and store.get("partners", partner) is None:
        raise BadScope(f"no partner with id {partner!r}", code="unknown_partner",
                       field="partner")
    known = list(known_regions)
    for region in chosen["regions"] or []:
        if region not in known:
            raise BadScope(f"unknown region {region!r} (expected one of: {', '.join(known)})",
                           code="unknown_region", field="regions")
    return Scope(parsed, association or None, partner or None, chosen["regions"] or [])


# ---------------------------------------------------------------------- users and passwords
def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be a username, or None."""
    if not USERNAME.match(normalise_username(username)):
        return "a username has 3 to 64 characters: letters, digits, . _ @ -"
    return None


def create_user(store: Store, username: str, password: str, role: Role, *,
                association_id: str | None = None, partner_id: str | None = None,
                regions: list[str] | None = None, replace: bool = False) -> int:
    """A new web user (or, with ``replace``, an existing one given this password, role and
    scope): the name and the password's strength checked, the password stored only as its
    salted scrypt hash. InvalidInput names the field; Conflict when the name is taken."""
    bad_name = username_problem(username)
    if bad_name:
        raise InvalidInput(bad_name, field="username")
    weak = check_strength(password)
    if weak:
        raise InvalidInput(weak, field="password")
    return store.create_user(username, hash_password(password), role,
                             association_id=association_id, partner_id=partner_id,
                             regions=regions, replace=replace)


def check_password(store: Store, username: str, password: str) -> int | None:
    """The id of the active user ``username`` if ``password`` is theirs, else None (in about
    the same time whether or not the user exists)."""
    found = store.password_hash_of(username)
    ok = verify_password(password, found[1] if found else None)
    return found[0] if found and ok else None
