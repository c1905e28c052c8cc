"""``Annotated`` dependency aliases for the page routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.pages.session import (
    WebContext,
    check_csrf,
    read_form,
    require_principal,
    web_context,
)
from matcher.principals import Principal

CtxDep = Annotated[WebContext, Depends(web_context)]


async def _raw_form(request: Request) -> dict[str, str]:
    return await read_form(request, request.app.state.web_settings)


def checked_form(ctx: CtxDep, form: Annotated[dict[str, str], Depends(_raw_form)]
                 ) -> dict[str, str]:
    """The posted form, after its CSRF token was checked: every POST route takes this."""
    check_csrf(ctx, form)
    return form


def signed_in(ctx: CtxDep) -> Principal:
    """The signed-in caller; anonymous visitors are sent to the sign-in page."""
    return require_principal(ctx)


FormDep = Annotated[dict[str, str], Depends(checked_form)]
SignedInDep = Annotated[Principal, Depends(signed_in)]
