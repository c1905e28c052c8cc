"""The partner's profile: what associations and coordinators read of it, and its editor
(``PartnerUpdate``, through the API's own route logic)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import FormInvalid, Message, changed, language_choices
from api.pages.i18n import N_
from api.pages.partner import PartnerDep
from api.pages.partner_forms import partner_input, partner_values, refused
from api.pages.render import redirect, render
from api.pages.session import PageNotFound, WebContext
from api.profile_schemas import PartnerUpdate
from matcher.errors import InvalidInput, NotFound
from matcher.ranking.engine import Engine
from matcher.services import profiles

router = APIRouter(include_in_schema=False)

SAVED = N_("Your profile was saved.")


@router.get("/partner/profile")
def profile(ctx: CtxDep, engine: EngineDep, partner: PartnerDep, done: str | None = None):
    ref = engine.ref
    return render(ctx, "partner/profile.html", partner=partner,
                  type_label=ref.partner_type_label(partner["type"], ctx.lang),
                  language_names=[ref.language_name(code, ctx.lang)
                                  for code in partner["languages"]],
                  contact=partner.get("contact") or {}, done=SAVED if done == "saved" else None,
                  gaps=profiles.profile_gaps("partners", partner))


def _editor(ctx: WebContext, engine: Engine, values: dict, errors: dict[str, Message] | None = None,
            status: int = 200):
    ref = engine.ref
    return render(ctx, "partner/profile_form.html", status, values=values, errors=errors or {},
                  types=[(t, ref.partner_type_label(t, ctx.lang)) for t in ref.partner_types],
                  language_choices=language_choices(ref, ctx.lang))


@router.get("/partner/profile/edit")
def edit_profile(ctx: CtxDep, engine: EngineDep, partner: PartnerDep):
    return _editor(ctx, engine, partner_values(partner))


@router.post("/partner/profile/edit")
def save_profile(ctx: CtxDep, form: FormDep, engine: EngineDep, who: SignedInDep,
                 partner: PartnerDep):
    try:
        profiles.change_partner(engine, who, partner["id"],
                                changed(PartnerUpdate, partner_input(form)))
    except (FormInvalid, InvalidInput) as exc:
        return _editor(ctx, engine, partner_values(None, form), refused(exc), status=422)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "/partner/profile?done=saved")
