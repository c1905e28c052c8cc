"""An association adds, edits and deletes its needs and practices.

Each form becomes the API's own schema (``NeedCreate``, ``PracticeUpdate``...) and goes
through the same services as the API's routes (:mod:`matcher.services.profiles`); a refused form comes back (422) with its messages next to the
fields and the input kept. Deleting asks first, on a page of its own (no script needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import EngineDep
from api.pages import forms
from api.pages.association import needs_page, own_association
from api.pages.deps import CtxDep, FormDep, SignedInDep
from api.pages.forms import FormInvalid
from api.pages.render import redirect, render
from api.pages.session import PageNotFound, WebContext
from api.profile_schemas import NeedCreate, NeedUpdate, PracticeCreate, PracticeUpdate
from matcher.errors import Conflict, Forbidden, InvalidInput, NotFound
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.services import profiles

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Kind:
    """A need or a practice: its table, schemas and the route functions that change it."""

    table: str
    create: type[BaseModel]
    update: type[BaseModel]
    add: Callable[..., dict]
    change: Callable[..., object]
    remove: Callable[..., None]
    sensitive: bool  # whether its form has the "sensitive" checkbox


NEED = Kind("needs", NeedCreate, NeedUpdate, profiles.add_need, profiles.change_need,
            profiles.remove_need, True)
PRACTICE = Kind("practices", PracticeCreate, PracticeUpdate, profiles.add_practice,
                profiles.change_practice, profiles.remove_practice, False)


def _data(kind: Kind, form: dict[str, str], record: dict | None = None) -> dict:
    """The schema's fields from the form. An unticked "sensitive" box leaves the default
    rule (sensitive when the topic is sexual and gender-based violence); unticking it on a
    confidential need (``record``) clears it, explicitly."""
    data = {"text": forms.text(form, "text"), "category": forms.optional(form, "category")}
    if kind.sensitive:
        cleared = False if record is not None and record.get("confidential") else None
        data["sensitive"] = True if forms.checked(form, "sensitive") else cleared
    return data


def _own(engine: Engine, who: Principal, kind: Kind, record_id: str) -> dict:
    """One of the caller's own needs or practices; anything else is the 404 page."""
    association = own_association(engine, who)
    record = profiles.get(engine, kind.table, record_id)
    if record is None or record["association_id"] != association["id"]:
        raise PageNotFound()
    return record


def _add(ctx: WebContext, engine: Engine, who: Principal, kind: Kind, form: dict[str, str]):
    association = own_association(engine, who)
    data = _data(kind, form)
    try:
        record = kind.add(engine, who, association["id"], forms.created(kind.create, data))
    except (FormInvalid, InvalidInput) as exc:
        refused = {"values": data, "errors": forms.errors_of(exc)}
        key = "need_form" if kind is NEED else "practice_form"
        return needs_page(ctx, engine, association, 422, **{key: refused})
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    noun = kind.table[:-1]
    if kind is NEED:  # straight to who could help
        return redirect(ctx, f"/needs/{quote(record['id'])}?added=1")
    return redirect(ctx, f"/needs?done={noun}-added#{noun}-{quote(record['id'])}")


def _edit_page(ctx: WebContext, engine: Engine, kind: Kind, record: dict, values: dict,
               errors: dict | None = None, status: int = 200):
    return render(ctx, "association/record_edit.html", status, kind=kind.table[:-1],
                  record=record, values=values, errors=errors or {},
                  categories=forms.category_choices(engine.ref, ctx.lang),
                  sensitive_now=engine.is_sensitive(record["id"]) if kind.sensitive else False)


def _edit(ctx: WebContext, engine: Engine, who: Principal, kind: Kind, record_id: str):
    record = _own(engine, who, kind, record_id)
    values = {**record, "sensitive": True} if kind.sensitive and engine.is_sensitive(
        record_id) else record
    return _edit_page(ctx, engine, kind, record, values)


def _save(ctx: WebContext, engine: Engine, who: Principal, kind: Kind, record_id: str,
          form: dict[str, str]):
    record = _own(engine, who, kind, record_id)
    data = _data(kind, form, record)
    try:
        kind.change(engine, who, record_id, forms.changed(kind.update, data))
    except (FormInvalid, InvalidInput) as exc:
        return _edit_page(ctx, engine, kind, record, data, forms.errors_of(exc), 422)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    noun = kind.table[:-1]
    return redirect(ctx, f"/needs?done={noun}-saved#{noun}-{quote(record_id)}")


def _confirm(ctx: WebContext, engine: Engine, who: Principal, kind: Kind, record_id: str,
             refused: bool = False):
    record = _own(engine, who, kind, record_id)
    return render(ctx, "association/record_delete.html", 409 if refused else 200,
                  kind=kind.table[:-1], record=record, refused=refused)


def _delete(ctx: WebContext, engine: Engine, who: Principal, kind: Kind, record_id: str):
    _own(engine, who, kind, record_id)
    try:
        kind.remove(engine, who, record_id)
    except Conflict:  # matches refer to it: they are its history
        return _confirm(ctx, engine, who, kind, record_id, refused=True)
    except (NotFound, Forbidden):
        raise PageNotFound() from None
    return redirect(ctx, f"/needs?done={kind.table[:-1]}-deleted")


# ---------------------------------------------------------------------- the routes
def _routes(kind: Kind) -> None:
    """``POST /<table>`` adds one; ``/<table>/{record_id}/edit`` and ``.../delete`` show the
    form (GET) and do it (POST)."""
    base = f"/{kind.table}"

    def add(ctx: CtxDep, who: SignedInDep, engine: EngineDep, form: FormDep):
        return _add(ctx, engine, who, kind, form)

    def edit(ctx: CtxDep, who: SignedInDep, engine: EngineDep, record_id: str):
        return _edit(ctx, engine, who, kind, record_id)

    def save(ctx: CtxDep, who: SignedInDep, engine: EngineDep, record_id: str, form: FormDep):
        return _save(ctx, engine, who, kind, record_id, form)

    def confirm(ctx: CtxDep, who: SignedInDep, engine: EngineDep, record_id: str):
        return _confirm(ctx, engine, who, kind, record_id)

    def delete(ctx: CtxDep, who: SignedInDep, engine: EngineDep, record_id: str,
               form: FormDep):
        return _delete(ctx, engine, who, kind, record_id)

    one = base + "/{record_id}"
    for path, endpoint, method in ((base, add, "POST"), (f"{one}/edit", edit, "GET"),
                                   (f"{one}/edit", save, "POST"),
                                   (f"{one}/delete", confirm, "GET"),
                                   (f"{one}/delete", delete, "POST")):
        router.add_api_route(path, endpoint, methods=[method],
                             name=f"{kind.table}_{endpoint.__name__}")


_routes(NEED)
_routes(PRACTICE)
