"""The partner's pages: its offerings (the list, the editor, deleting one). Its matches and its
profile: :mod:`api.pages.partner_matches`, :mod:`api.pages.partner_profile`.

Every partner page is for a signed-in partner and about its own records: other roles, and
partners asking for another partner's offering, get the not-found page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import (
    FormInvalid,
    Message,
    category_choices,
    changed,
    commodity_choices,
    created,
    language_choices,
)
from api.pages.i18n import N_, format_number
from api.pages.partner_forms import offering_input, offering_values, refused
from api.pages.render import redirect, render
from api.pages.session import PageNotFound, WebContext
from api.profile_schemas import OfferingCreate, OfferingUpdate
from matcher import policy
from matcher.errors import Conflict, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.ranking import filters
from matcher.ranking.engine import Engine
from matcher.reference import Reference
from matcher.services import profiles

router = APIRouter(include_in_schema=False)

PER_PAGE = 25
# Why an offering is not suggested now (the availability rules of matcher.ranking.filters).
UNAVAILABLE = {
    "active": N_("it is inactive"),
    "valid": N_("its end date has passed"),
    "capacity": N_("every slot is taken"),
}
DONE = {
    "added": N_("The offering was added."),
    "saved": N_("The offering was saved."),
    "deleted": N_("The offering was deleted."),
}
IN_USE = N_("This offering cannot be deleted: matches refer to it, and they are its history. "
            "Set it inactive instead: it will no longer be suggested.")


def own_partner(who: SignedInDep, engine: EngineDep) -> dict:
    """The signed-in partner's record; the not-found page for every other caller."""
    if who.role is not Role.PARTNER or not who.partner_id:
        raise PageNotFound()
    partner = profiles.get(engine, "partners", who.partner_id)
    if partner is None:
        raise PageNotFound()
    return partner


PartnerDep = Annotated[dict, Depends(own_partner)]


def own_offering(engine: Engine, who: Principal, offering_id: str) -> dict:
    """One of the caller's offerings; others' look exactly like missing ones."""
    row = profiles.get(engine, "offerings", offering_id)
    if row is None or not policy.can_edit_partner(who, row["partner_id"]):
        raise PageNotFound()
    return row


def page_number(raw: str | None) -> int:
    """A page number from the query string (1 when missing or malformed)."""
    ok = raw is not None and 0 < len(raw) < 6 and raw.isascii() and raw.isdigit()
    return max(1, int(raw)) if ok else 1


# ---------------------------------------------------------------------- the list
@router.get("/partner/offerings")
def offerings(ctx: CtxDep, engine: EngineDep, partner: PartnerDep, page: str | None = None,
              done: str | None = None):
    rows = profiles.offerings_of(engine, partner["id"])
    pages = max(1, -(-len(rows) // PER_PAGE))
    number = min(page_number(page), pages)
    shown = rows[(number - 1) * PER_PAGE:number * PER_PAGE]
    used = profiles.capacity_used(engine)
    blocked = filters.unavailable(engine.corpus(), used) if shown else {}
    return render(ctx, "partner/offerings.html", partner=partner,
                  offerings=[_card(engine.ref, ctx.lang, row, used.get(row["id"], 0),
                                   blocked.get(row["id"], [])) for row in shown],
                  page=number, pages=pages, done=DONE.get(done or ""))


def _card(ref: Reference, lang: str, row: dict, used: int, blocked: list[str]) -> dict:
    """What the list shows of one offering, in the page's language."""
    eligibility: list[Message] = []
    if row["women_led_only"]:
        eligibility.append(Message(N_("Women-led associations only")))
    if row["min_members"]:
        eligibility.append(Message(N_("At least %(count)s members"),
                                   {"count": format_number(row["min_members"], lang)}))
    if row["requires_formal_license"]:
        eligibility.append(Message(N_("A formal licence is required")))
    return {
        "id": row["id"], "title": row["title"], "active": row["active"],
        "category": ref.category_label(row["category"], lang),
        "regions": [ref.region_label(r, lang) for r in row["regions"]],
        "countries": [ref.country_name(c, lang) for c in row["countries"]],
        "languages": [ref.language_name(code, lang) for code in row["languages"]],
        "commodities": [ref.commodity_label(c, lang) for c in row["commodities"]],
        "eligibility": eligibility, "capacity": row["capacity"], "used": used,
        "valid_until": row["valid_until"], "blocked": [UNAVAILABLE[r] for r in blocked],
    }


# ---------------------------------------------------------------------- the editor
def _editor(ctx: WebContext, engine: Engine, values: dict, offering: dict | None = None,
            errors: dict[str, Message] | None = None, status: int = 200):
    ref, lang = engine.ref, ctx.lang
    countries: dict[str, list[tuple[str, str]]] = {}
    for code, region in ref.countries.items():
        countries.setdefault(region, []).append((code, ref.country_name(code, lang)))
    return render(
        ctx, "partner/offering_form.html", status, offering=offering, values=values,
        errors=errors or {},
        categories=category_choices(ref, lang), commodities=commodity_choices(ref, lang),
        regions=[(r, ref.region_label(r, lang)) for r in ref.regions],
        language_choices=language_choices(ref, lang),
        countries=[(ref.region_label(r, lang), sorted(countries.get(r, []), key=lambda c: c[1]))
                   for r in ref.regions])


@router.get("/partner/offerings/new")
def new_offering(ctx: CtxDep, engine: EngineDep, partner: PartnerDep):
    return _editor(ctx, engine, offering_values(None))


@router.post("/partner/offerings/new")
def create_offering(ctx: CtxDep, form: FormDep, engine: EngineDep, who: SignedInDep,
                    partner: PartnerDep):
    try:
        row = profiles.add_offering(engine, who, partner["id"],
                                    created(OfferingCreate, offering_input(form, engine.ref)))
    except (FormInvalid, InvalidInput) as exc:
        return _editor(ctx, engine, offering_values(None, form, engine.ref), errors=refused(exc),
                       status=422)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, f"/partner/offerings/{row['id']}/needs?done=added")


@router.get("/partner/offerings/{offering_id}")
def edit_offering(ctx: CtxDep, engine: EngineDep, who: SignedInDep, partner: PartnerDep,
                  offering_id: str):
    offering = own_offering(engine, who, offering_id)
    return _editor(ctx, engine, offering_values(offering), offering)


@router.post("/partner/offerings/{offering_id}")
def save_offering(ctx: CtxDep, form: FormDep, engine: EngineDep, who: SignedInDep,
                  partner: PartnerDep, offering_id: str):
    offering = own_offering(engine, who, offering_id)
    try:
        profiles.change_offering(engine, who, offering_id,
                                 changed(OfferingUpdate, offering_input(form, engine.ref)))
    except (FormInvalid, InvalidInput) as exc:
        return _editor(ctx, engine, offering_values(offering, form, engine.ref), offering,
                       refused(exc), status=422)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, f"/partner/offerings/{offering_id}/needs?done=saved")


# ---------------------------------------------------------------------- deleting
@router.get("/partner/offerings/{offering_id}/delete")
def confirm_delete(ctx: CtxDep, engine: EngineDep, who: SignedInDep, partner: PartnerDep,
                   offering_id: str):
    return render(ctx, "partner/offering_delete.html",
                  offering=own_offering(engine, who, offering_id))


@router.post("/partner/offerings/{offering_id}/delete")
def delete_offering(ctx: CtxDep, form: FormDep, engine: EngineDep, who: SignedInDep,
                    partner: PartnerDep, offering_id: str):
    offering = own_offering(engine, who, offering_id)
    try:
        profiles.remove_offering(engine, who, offering_id)
    except Conflict:
        return render(ctx, "partner/offering_delete.html", 409, offering=offering, error=IN_USE)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "/partner/offerings?done=deleted")
