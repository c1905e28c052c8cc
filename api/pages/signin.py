"""Home, sign-in (password or token), sign-out and the language choice."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages.deps import CtxDep, FormDep
from api.pages.i18n import N_
from api.pages.render import home_for, redirect, render
from api.pages.session import WebContext, safe_next
from api.security import _record_failure, _too_many_failures
from matcher.passwords import MAX_LENGTH
from matcher.reference import UI_LANGUAGES

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


def _client(ctx: WebContext) -> str:
    return ctx.request.client.host if ctx.request.client else "unknown"


@router.post("/signin/password")
def signin_password(ctx: CtxDep, form: FormDep):
    next_path = safe_next(form.get("next"), "")
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")
    if _too_many_failures(_client(ctx)):
        return _signin_page(ctx, next_path, 429, N_("Too many failed attempts. Please wait a "
                                                    "minute and try again."), username)
    user_id = (ctx.store.check_password(username, password)
               if username and password and len(password) <= MAX_LENGTH else None)
    if user_id is None:
        _record_failure(_client(ctx))
        return _signin_page(ctx, next_path, 401, N_("Wrong username or password."), username)
    ctx.sign_in(user_id=user_id)
    return redirect(ctx, next_path or home_for(ctx.principal.role))


@router.post("/signin/token")
def signin_token(ctx: CtxDep, form: FormDep):
    next_path = safe_next(form.get("next"), "")
    token = form.get("token", "").strip()
    if _too_many_failures(_client(ctx)):
        return _signin_page(ctx, next_path, 429, N_("Too many failed attempts. Please wait a "
                                                    "minute and try again."))
    principal = ctx.store.principal_for(token) if 0 < len(token) <= 200 else None
    if principal is None:
        _record_failure(_client(ctx))
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

