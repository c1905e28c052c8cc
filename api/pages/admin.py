"""The admin's pages for people: web users (create, disable) and API tokens (create, shown
once; revoke). Admins only: every other role gets the not-found page."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages.admin_forms import (
    AdminDep,
    checked_scope,
    describe_scope,
    scope_choices,
    scope_values,
)
from api.pages.deps import CtxDep, FormDep
from api.pages.forms import NOT_ACCEPTED, Message
from api.pages.i18n import N_
from api.pages.render import ROLE_NAMES, redirect, render
from api.pages.session import PageNotFound, WebContext
from matcher.accounts import users as accounts
from matcher.accounts.passwords import MAX_LENGTH, MIN_LENGTH, check_strength
from matcher.errors import Conflict, InvalidInput, NotFound
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.services import accounts as account_service
from matcher.services.accounts import MAX_LABEL

router = APIRouter(include_in_schema=False)

USERS = "/admin/users"
# The notice the users page shows after a change: (message, whose name it takes).
DONE = {
    "user-created": N_("User %(name)s was created: they can sign in now."),
    "user-disabled": N_("User %(name)s was disabled and signed out everywhere."),
    "token-revoked": N_("Token %(name)s was revoked: it no longer works."),
    "user-enabled": N_("User %(name)s can sign in again."),
    "user-password": N_("User %(name)s has a new password and was signed out everywhere."),
    "user-changed": N_("User %(name)s has a new role and scope and was signed out everywhere."),
}
PER_PAGE = 25
MAX_SEARCH = 64  # characters of a username search kept


def _record_id(raw: str) -> int:
    """A user or token id from the path; anything else is a missing page."""
    if not raw.isdigit() or len(raw) > 12:
        raise PageNotFound()
    return int(raw)


def _user(engine: Engine, raw_id: str) -> dict:
    found = account_service.list_users(engine, _record_id(raw_id))
    if not found:
        raise PageNotFound()
    return found[0]


def _token(engine: Engine, raw_id: str) -> dict:
    found = account_service.list_tokens(engine, _record_id(raw_id))
    if not found:
        raise PageNotFound()
    return found[0]


def _rows(engine: Engine, lang: str, records: list[dict]) -> list[dict]:
    return [{**r, "role_name": ROLE_NAMES[Role(r["role"])],
             "scope": describe_scope(engine, lang, r)} for r in records]


def _notice(engine: Engine, done: str | None, raw_id: str | None) -> tuple[str, str] | None:
    """The message after a change, naming the record from the store (never from the URL)."""
    if done not in DONE or not raw_id or not raw_id.isdigit():
        return None
    if done.startswith("user-"):
        found = account_service.list_users(engine, int(raw_id))
        return (DONE[done], found[0]["username"]) if found else None
    found = account_service.list_tokens(engine, int(raw_id))
    return (DONE[done], str(found[0]["id"])) if found else None


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 7 \
        and int(raw) > 0 else 1


@router.get(USERS)
def users_page(ctx: CtxDep, who: AdminDep, engine: EngineDep, done: str | None = None,
               id: str | None = None,  # noqa: A002  (the query parameter's name)
               q: str | None = None, page: str | None = None, tokens: str | None = None):
    typed = (q or "").strip()[:MAX_SEARCH]
    user_page, token_page = _page_number(page), _page_number(tokens)
    users, user_total = account_service.find_users(engine, typed, PER_PAGE,
                                                   (user_page - 1) * PER_PAGE)
    token_rows, token_total = account_service.tokens_page(engine, PER_PAGE,
                                                          (token_page - 1) * PER_PAGE)
    return render(ctx, "admin/users.html", q=typed,
                  users=_rows(engine, ctx.lang, users), user_total=user_total,
                  user_page=user_page, user_pages=max(1, -(-user_total // PER_PAGE)),
                  tokens=_rows(engine, ctx.lang, token_rows), token_total=token_total,
                  token_page=token_page, token_pages=max(1, -(-token_total // PER_PAGE)),
                  notice=_notice(engine, done, id), me=ctx.session.get("user_id"))


# ---------------------------------------------------------------------- users
def _user_form(ctx: WebContext, engine: Engine, status: int = 200, values: dict | None = None,
               errors: dict[str, Message] | None = None):
    return render(ctx, "admin/user_new.html", status=status,
                  values=values or {"username": "", "role": "", "association": "",
                                    "partner": "", "regions": []},
                  errors=errors or {}, choices=scope_choices(engine, ctx.lang),
                  min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@router.get(f"{USERS}/new")
def new_user_page(ctx: CtxDep, who: AdminDep, engine: EngineDep):
    return _user_form(ctx, engine)


@router.post(f"{USERS}/new")
def create_user(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep):
    values = {"username": form.get("username", "").strip(), **scope_values(form)}
    password, again = form.get("password", ""), form.get("password2", "")
    errors: dict[str, Message] = {}
    if accounts.username_problem(values["username"]):
        errors["username"] = Message(N_("A username has 3 to 64 characters: letters, digits "
                                        "and . _ @ -"))
    scope = checked_scope(engine, values, errors)
    if check_strength(password):
        errors["password"] = Message(N_("A password has %(min)s to %(max)s characters."),
                                     {"min": MIN_LENGTH, "max": MAX_LENGTH})
    elif password != again:
        errors["password2"] = Message(N_("The two passwords are not the same."))
    if scope is not None and not errors:
        try:
            user_id = account_service.create_user(engine, values["username"], password,
                                                  scope)
        except Conflict:
            errors["username"] = Message(N_("This username is already taken."))
        except InvalidInput as exc:  # the store's own checks, should the rules change
            errors[exc.field or "username"] = NOT_ACCEPTED
        else:
            return redirect(ctx, f"{USERS}?done=user-created&id={user_id}")
    return _user_form(ctx, engine, 422, values, errors)


def _confirm_disable(ctx: WebContext, engine: Engine, user: dict, status: int = 200):
    own = ctx.session.get("user_id") == user["id"]
    return render(ctx, "admin/confirm.html", status=status, kind="user",
                  record=_rows(engine, ctx.lang, [user])[0], own=own,
                  done=bool(user["disabled_at"]),
                  action=f"{USERS}/{user['id']}/disable")


@router.get(f"{USERS}/{{user_id}}/disable")
def disable_user_page(ctx: CtxDep, who: AdminDep, engine: EngineDep, user_id: str):
    return _confirm_disable(ctx, engine, _user(engine, user_id))


@router.post(f"{USERS}/{{user_id}}/disable")
def disable_user(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep, user_id: str):
    user = _user(engine, user_id)
    if ctx.session.get("user_id") == user["id"] or user["disabled_at"]:
        return _confirm_disable(ctx, engine, user, 409)
    try:
        account_service.disable_user(engine, user["username"])
    except (InvalidInput, NotFound):  # disabled or gone in between
        return _confirm_disable(ctx, engine, _user(engine, user_id), 409)
    return redirect(ctx, f"{USERS}?done=user-disabled&id={user['id']}")


def _edit_form(ctx: WebContext, engine: Engine, user: dict, status: int = 200,
               values: dict | None = None, errors: dict[str, Message] | None = None):
    values = values or {"role": user["role"], "association": user["association_id"] or "",
                        "partner": user["partner_id"] or "", "regions": user["regions"]}
    return render(ctx, "admin/user_edit.html", status=status,
                  record=_rows(engine, ctx.lang, [user])[0], values=values,
                  errors=errors or {}, choices=scope_choices(engine, ctx.lang),
                  own=ctx.session.get("user_id") == user["id"],
                  min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@router.get(f"{USERS}/{{user_id}}/edit")
def edit_user_page(ctx: CtxDep, who: AdminDep, engine: EngineDep, user_id: str):
    return _edit_form(ctx, engine, _user(engine, user_id))


@router.post(f"{USERS}/{{user_id}}/edit")
def change_user_scope(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep,
                      user_id: str):
    """A new role and scope; never the admin's own (they would lock themselves out)."""
    user = _user(engine, user_id)
    values = scope_values(form)
    errors: dict[str, Message] = {}
    if ctx.session.get("user_id") == user["id"]:
        return _edit_form(ctx, engine, user, 409, values)
    scope = checked_scope(engine, values, errors)
    if scope is None or errors:
        return _edit_form(ctx, engine, user, 422, values, errors)
    try:
        account_service.change_scope(engine, user["id"], scope)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, f"{USERS}?done=user-changed&id={user['id']}")


@router.post(f"{USERS}/{{user_id}}/password")
def reset_password(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep,
                   user_id: str):
    """A new password for the user, given to them privately; their sessions end (the admin's
    own too, when it is theirs: they sign in again with it)."""
    user = _user(engine, user_id)
    password, again = form.get("password", ""), form.get("password2", "")
    errors: dict[str, Message] = {}
    if check_strength(password):
        errors["password"] = Message(N_("A password has %(min)s to %(max)s characters."),
                                     {"min": MIN_LENGTH, "max": MAX_LENGTH})
    elif password != again:
        errors["password2"] = Message(N_("The two passwords are not the same."))
    if errors:
        return _edit_form(ctx, engine, user, 422, errors=errors)
    try:
        account_service.reset_password(engine, user["id"], password)
    except NotFound:
        raise PageNotFound() from None
    if ctx.session.get("user_id") == user["id"]:
        return redirect(ctx, "/signin")
    return redirect(ctx, f"{USERS}?done=user-password&id={user['id']}")


@router.post(f"{USERS}/{{user_id}}/enable")
def enable_user(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep, user_id: str):
    """A disabled user may sign in again."""
    user = _user(engine, user_id)
    try:
        account_service.enable_user(engine, user["id"])
    except InvalidInput:  # not disabled (any more)
        return _edit_form(ctx, engine, _user(engine, user_id), 409)
    except NotFound:
        raise PageNotFound() from None
    return redirect(ctx, f"{USERS}?done=user-enabled&id={user['id']}")


# ---------------------------------------------------------------------- tokens
def _token_form(ctx: WebContext, engine: Engine, status: int = 200, values: dict | None = None,
                errors: dict[str, Message] | None = None):
    return render(ctx, "admin/token_new.html", status=status,
                  values=values or {"label": "", "role": "", "association": "", "partner": "",
                                    "regions": []},
                  errors=errors or {}, choices=scope_choices(engine, ctx.lang),
                  max_label=MAX_LABEL)


@router.get(f"{USERS}/tokens/new")
def new_token_page(ctx: CtxDep, who: AdminDep, engine: EngineDep):
    return _token_form(ctx, engine)


@router.post(f"{USERS}/tokens/new")
def create_token(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep):
    """The new token is shown on this response only (no redirect: it must never be in a URL,
    and the page is not cached)."""
    values = {"label": form.get("label", "").strip(), **scope_values(form)}
    errors: dict[str, Message] = {}
    if len(values["label"]) > MAX_LABEL:
        errors["label"] = Message(N_("A label has at most %(max)s characters."),
                                  {"max": MAX_LABEL})
    scope = checked_scope(engine, values, errors)
    if scope is None or errors:
        return _token_form(ctx, engine, 422, values, errors)
    token_id, token = account_service.create_token(engine, scope, values["label"])
    record = _rows(engine, ctx.lang, account_service.list_tokens(engine, token_id))[0]
    return render(ctx, "admin/token_created.html", token=token, record=record)


def _confirm_revoke(ctx: WebContext, engine: Engine, who: Principal, token: dict,
                    status: int = 200):
    return render(ctx, "admin/confirm.html", status=status, kind="token",
                  record=_rows(engine, ctx.lang, [token])[0], own=who.token_id == token["id"],
                  done=bool(token["revoked_at"]),
                  action=f"{USERS}/tokens/{token['id']}/revoke")


@router.get(f"{USERS}/tokens/{{token_id}}/revoke")
def revoke_token_page(ctx: CtxDep, who: AdminDep, engine: EngineDep, token_id: str):
    return _confirm_revoke(ctx, engine, who, _token(engine, token_id))


@router.post(f"{USERS}/tokens/{{token_id}}/revoke")
def revoke_token(ctx: CtxDep, form: FormDep, who: AdminDep, engine: EngineDep, token_id: str):
    token = _token(engine, token_id)
    try:
        account_service.revoke_token(engine, token["id"])
    except (InvalidInput, NotFound):  # revoked in between
        return _confirm_revoke(ctx, engine, who, _token(engine, token_id), 409)
    if who.token_id == token["id"]:  # the admin signed in with it: that session is over
        return redirect(ctx, "/signin")
    return redirect(ctx, f"{USERS}?done=token-revoked&id={token['id']}")
