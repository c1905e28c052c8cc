"""Home, sign-in (password or token), sign-out and the language choice."""

from __future__ import annotations

from fastapi import APIRouter

from api import throttle
from api.pages.deps import CtxDep, FormDep
from api.pages.device import device_id, give_device_cookie
from api.pages.i18n import N_
from api.pages.render import home_for, redirect, render
from api.pages.session import WebContext, safe_next
from matcher.accounts.passwords import MAX_LENGTH
from matcher.reference import UI_LANGUAGES
from matcher.services import sessions

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(ctx: CtxDep):
    return redirect(ctx, home_for(ctx.principal.role if ctx.principal else None))


def _signin_page(ctx: WebContext, next_path: str, status: int = 200, error: str | None = None,
                 username: str = ""):
    return render(ctx, "signin.html", status=status, next_path=next_path, error=error,
                  username=username, signed_out=ctx.request.query_params.get("out") == "1")


@router.get("/signin")
def signin_page(ctx: CtxDep, next: str | None = None):
    if ctx.principal is not None:
        return redirect(ctx, safe_next(next, home_for(ctx.principal.role)))
    return _signin_page(ctx, safe_next(next, ""))


TOO_MANY = N_("Too many failed attempts. Please wait a minute and try again.")


def _password_guard(ctx: WebContext, username: str) -> str:
    """The key this password attempt's failures count against (besides the address): the
    browser's device id for the username if it has one, else the username."""
    device = device_id(ctx, username)
    return throttle.device_key(device) if device else throttle.username_key(username)


@router.post("/signin/password")
def signin_password(ctx: CtxDep, form: FormDep):
    """Sign in with a password; throttled as api.throttle says (never the right password from a
    busy address, only an unknown browser's attempts at a username under attack)."""
    next_path = safe_next(form.get("next"), "")
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")
    guard = _password_guard(ctx, username)
    if throttle.over_limit(guard):  # refused unchecked: a guess here teaches nothing
        return _signin_page(ctx, next_path, 429, TOO_MANY, username)
    user_id = (sessions.check_password(ctx.engine, username, password)
               if username and password and len(password) <= MAX_LENGTH else None)
    if user_id is None:
        address = throttle.client_key(ctx.request)
        busy = throttle.over_limit(address)
        throttle.record_failure(guard, address)
        return _signin_page(ctx, next_path, 429 if busy else 401,
                            TOO_MANY if busy else N_("Wrong username or password."), username)
    ctx.sign_in(user_id=user_id)
    give_device_cookie(ctx, username)
    return redirect(ctx, next_path or home_for(ctx.principal.role))


@router.post("/signin/token")
def signin_token(ctx: CtxDep, form: FormDep):
    next_path = safe_next(form.get("next"), "")
    token = form.get("token", "").strip()
    principal = sessions.principal_for_token(ctx.engine, token) if 0 < len(token) <= 200 else None
    if principal is None:
        if throttle.token_failed(ctx.request):
            return _signin_page(ctx, next_path, 429, TOO_MANY)
        return _signin_page(ctx, next_path, 401, N_("This token is unknown or was revoked."))
    ctx.sign_in(token_id=principal.token_id)
    return redirect(ctx, next_path or home_for(principal.role))


@router.post("/signout")
def signout(ctx: CtxDep, form: FormDep):
    ctx.sign_out()
    return redirect(ctx, "/signin?out=1")


@router.post("/language")
def choose_language(ctx: CtxDep, form: FormDep):
    lang = form.get("lang", "")
    if lang in UI_LANGUAGES:
        ctx.choose_language(lang)
    return redirect(ctx, safe_next(form.get("next")))

