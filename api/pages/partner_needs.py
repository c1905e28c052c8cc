"""The partner's "Needs your offering fits": the open needs one of its offerings could serve,
strongest first, and "Offer help" on one (a proposed match the coordinators review).
Reachable right after an offering is saved."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.i18n import N_
from api.pages.partner import PartnerDep, own_offering
from api.pages.render import redirect, render
from api.pages.session import PageNotFound
from matcher.errors import Conflict, Forbidden, NotFound
from matcher.services import suggestions

router = APIRouter(include_in_schema=False)

SHOWN = 20
STRENGTH_WORDS = {"strong": N_("Strong fit"), "good": N_("Good fit"),
                  "possible": N_("Possible fit"), "weak": N_("Weak fit")}
DONE = {"saved": N_("The offering was saved. These are the needs it fits now."),
        "added": N_("The offering was added. These are the needs it fits now."),
        "offered": N_("Your offer was sent: the region's coordinator reviews it.")}
REFUSED = N_("This need cannot take your offer now: it was matched with this offering "
             "already, or the offering no longer fits it.")


@router.get("/partner/offerings/{offering_id}/needs")
def offering_needs(ctx: CtxDep, engine: EngineDep, who: SignedInDep, partner: PartnerDep,
                   offering_id: str, done: str | None = None):
    offering = own_offering(engine, who, offering_id)
    needs = suggestions.needs_for_offering(engine, who, offering_id, SHOWN, ctx.lang)
    for need in needs:
        need["fit"] = STRENGTH_WORDS.get(need["strength_label"] or "", "")
        need["percent"] = None if need["strength"] is None else round(100 * need["strength"])
        need["region_label"] = engine.ref.region_label(need["region"], ctx.lang) \
            if need["region"] else ""
    return render(ctx, "partner/needs.html", partner=partner, offering=offering, needs=needs,
                  done=DONE.get(done or ""), refused=REFUSED if done == "refused" else None)


@router.post("/partner/offerings/{offering_id}/needs/{need_id}/offer")
def offer(ctx: CtxDep, form: FormDep, engine: EngineDep, who: SignedInDep,
          partner: PartnerDep, offering_id: str, need_id: str):
    own_offering(engine, who, offering_id)
    try:
        suggestions.offer_help(engine, who, offering_id, need_id)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    except Conflict:
        return redirect(ctx, f"/partner/offerings/{offering_id}/needs?done=refused")
    return redirect(ctx, f"/partner/offerings/{offering_id}/needs?done=offered")
