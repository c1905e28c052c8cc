"""An association's pages: its profile (read and edit) and the list of its needs and practices.

The needs' and practices' editors are in :mod:`api.pages.association_needs`, the suggestions
of one need in :mod:`api.pages.association_suggestions`, its matches in
:mod:`api.pages.association_matches`.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages import forms
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import FormInvalid
from api.pages.i18n import N_
from api.pages.render import home_for, redirect, render
from api.pages.session import PageNotFound, WebContext
from api.profile_schemas import AssociationUpdate
from matcher.errors import Forbidden, InvalidInput, NotFound, NotReady
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import profiles

router = APIRouter(include_in_schema=False)

# What a page says after a change (redirects carry only these keys, never posted text).
NOTICES = {
    "profile-saved": N_("Your profile was saved."),
    "need-added": N_("Your need was added. Open it to see who could help."),
    "need-saved": N_("Your need was saved. Its suggestions now follow the new text."),
    "need-deleted": N_("The need was deleted."),
    "practice-added": N_("Your practice was added: other associations can now learn from it."),
    "practice-saved": N_("Your practice was saved."),
    "practice-deleted": N_("The practice was deleted."),
}


def own_association(engine: Engine, who: Principal) -> dict:
    """The caller's own association; anyone else (or a deleted one) gets the 404 page."""
    association = profiles.get(engine, "associations", who.association_id or "") \
        if who.role is Role.ASSOCIATION else None
    if association is None:
        raise PageNotFound()
    return association


def notice(ctx: WebContext) -> str | None:
    return NOTICES.get(ctx.request.query_params.get("done", ""))


def _labels(engine: Engine, lang: str, association: dict) -> dict:
    ref = engine.ref
    return {
        "country": ref.country_name(association["country"], lang),
        "region": ref.region_label(association["region"], lang),
        "languages": [ref.language_name(code, lang) for code in association["languages"] or []],
        "commodities": [ref.commodity_label(c, lang) for c in association["commodities"] or []],
    }


# ---------------------------------------------------------------------- profile
@router.get("/profile")
def profile(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = own_association(engine, who)
    return render(ctx, "association/profile.html", association=association,
                  labels=_labels(engine, ctx.lang, association), notice=notice(ctx),
                  contact=association.get("contact") or {},
                  gaps=profiles.profile_gaps("associations", association))


def _profile_values(association: dict) -> dict:
    """The edit form's fields, filled from the stored profile."""
    contact = association.get("contact") or {}
    values = {key: association.get(key) for key in ("name", "description", "country")}
    values.update(**forms.language_values(association["languages"]),
                  members=str(association["members"]), women_led=association["women_led"],
                  formal_license=association["formal_license"],
                  commodities=association["commodities"] or [])
    values.update({f"contact_{key}": contact.get(key) or ""
                   for key in ("name", "phone", "whatsapp", "email")})
    return values


def _profile_form(ctx: WebContext, engine: Engine, association: dict, values: dict,
                  errors: dict | None = None, status: int = 200):
    ref = engine.ref
    return render(ctx, "association/profile_edit.html", status, association=association,
                  values=values, errors=errors or {},
                  countries=forms.country_choices(ref, ctx.lang),
                  commodities=forms.commodity_choices(ref, ctx.lang),
                  language_choices=forms.language_choices(ref, ctx.lang))


@router.get("/profile/edit")
def profile_edit(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    association = own_association(engine, who)
    return _profile_form(ctx, engine, association, _profile_values(association))


def _profile_update(engine: Engine, form: dict[str, str]) -> tuple[dict, dict]:
    """The update the form asks for, and the form's values to show again if refused."""
    contact = {key: forms.optional(form, f"contact_{key}")
               for key in ("name", "phone", "whatsapp", "email")}
    commodities = forms.ticked(form, "commodity-", list(engine.ref.commodities))
    data = {
        "name": forms.text(form, "name"), "description": forms.text(form, "description"),
        "country": forms.text(form, "country"), "languages": forms.languages(form),
        "commodities": commodities, "members": forms.whole_number(form, "members"),
        "women_led": forms.checked(form, "women_led"),
        "formal_license": forms.checked(form, "formal_license"),
        "contact": contact if any(contact.values()) else None,
    }
    values = {**{k: data[k] for k in ("name", "description", "country", "women_led",
                                      "formal_license", "commodities")},
              **forms.typed_language_values(form), "members": forms.text(form, "members"),
              **{f"contact_{k}": forms.text(form, f"contact_{k}") for k in contact}}
    return data, values


@router.post("/profile/edit")
def profile_save(ctx: CtxDep, who: SignedInDep, engine: EngineDep, form: FormDep):
    association = own_association(engine, who)
    data, values = _profile_update(engine, form)
    try:
        profiles.change_association(engine, who, association["id"],
                                    forms.changed(AssociationUpdate, data))
    except (FormInvalid, InvalidInput) as exc:
        return _profile_form(ctx, engine, association, values, forms.errors_of(exc), 422)
    except Forbidden:  # a country of another region: a move only coordinators may make
        return _profile_form(ctx, engine, association, values, forms.errors_of(
            InvalidInput("another region", field="country")), 422)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, "/profile?done=profile-saved")


# ---------------------------------------------------------------------- needs and practices
def _topic_of(engine: Engine, need: dict, lang: str) -> dict:
    """A need's topic as its card shows it: the one given, else the one guessed from its
    text (none while its text has no vector yet)."""
    if need["category"]:
        return {"topic": engine.ref.category_label(need["category"], lang),
                "topic_inferred": False}
    try:
        category = engine.need_category(need["id"])[0]
    except (NotFound, NotReady):
        return {"topic": None, "topic_inferred": False}
    return {"topic": engine.ref.category_label(category, lang), "topic_inferred": True}


def needs_page(ctx: WebContext, engine: Engine, association: dict, status: int = 200,
               need_form: dict | None = None, practice_form: dict | None = None):
    """The list of the association's needs and practices, with the forms that add one
    (``need_form`` / ``practice_form``: the values and errors of a refused form)."""
    ref = engine.ref
    rows = [{**need, **_topic_of(engine, need, ctx.lang),
             "sensitive": engine.is_sensitive(need["id"])}
            for need in profiles.needs_of(engine, association["id"])]
    practices = [{**p, "topic": ref.category_label(p["category"], ctx.lang)
                  if p["category"] else None}
                 for p in profiles.practices_of(engine, association["id"])]
    empty = {"values": {}, "errors": {}}
    return render(ctx, "association/needs.html", status, association=association, needs=rows,
                  practices=practices, notice=notice(ctx),
                  categories=forms.category_choices(ref, ctx.lang),
                  need_form=need_form or empty, practice_form=practice_form or empty)


@router.get("/needs")
def needs(ctx: CtxDep, who: SignedInDep, engine: EngineDep):
    if who.role is not Role.ASSOCIATION:
        return redirect(ctx, home_for(who.role))
    return needs_page(ctx, engine, own_association(engine, who))
