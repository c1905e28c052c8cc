"""Rendering a page (or a redirect) in the caller's language, with its cookies and headers."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.pages.i18n import N_, environment
from api.pages.labels import (
    COMMENT_AUTHORS,
    OUTCOME_LABELS,
    PARTNER_ANSWER_LABELS,
    PARTNER_REASON_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    STATUS_WORDS,
    scorer_labels,
)
from api.pages.session import CSRF_FIELD, WebContext
from matcher.principals import Role
from matcher.services.notifications import unread_count

# Pages load nothing from elsewhere and run no inline script or style.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "script-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Vary": "Cookie, Accept-Language",
}


ROLE_NAMES = {
    Role.ADMIN: N_("Administrator"),
    Role.COORDINATOR: N_("Coordinator"),
    Role.ASSOCIATION: N_("Association member"),
    Role.PARTNER: N_("Partner"),
}


# Where each role lands after signing in.
HOME: dict[Role, str] = {
    Role.ASSOCIATION: "/needs",
    Role.PARTNER: "/partner/offerings",
    Role.COORDINATOR: "/review",
    Role.ADMIN: "/admin/users",
}

# The main menu of each role: (path, label), in order.
NAV: dict[Role, list[tuple[str, str]]] = {
    Role.ASSOCIATION: [
        ("/needs", N_("Needs and practices")),
        ("/matches", N_("My matches")),
        ("/exchanges", N_("Exchanges")),
        ("/profile", N_("Profile")),
        ("/search", N_("Search")),
        ("/library", N_("Library")),
        ("/notifications", N_("Notifications")),
    ],
    Role.PARTNER: [
        ("/partner/offerings", N_("Offerings")),
        ("/partner/matches", N_("Matches")),
        ("/partner/profile", N_("Profile")),
        ("/search", N_("Search")),
        ("/library", N_("Library")),
        ("/notifications", N_("Notifications")),
    ],
    Role.COORDINATOR: [
        ("/review", N_("Review queue")),
        ("/dashboard", N_("Dashboard")),
        ("/search", N_("Search")),
        ("/library", N_("Library")),
        ("/notifications", N_("Notifications")),
    ],
    Role.ADMIN: [
        ("/admin/users", N_("Users and tokens")),
        ("/admin/plugins", N_("Scorers")),
        ("/admin/data", N_("Import and export")),
        ("/admin/outbox", N_("E-mail outbox")),
        ("/library", N_("Library")),
        ("/review", N_("Review queue")),
        ("/dashboard", N_("Dashboard")),
    ],
}


def home_for(role: Role | None) -> str:
    """Where a caller lands after signing in."""
    return "/signin" if role is None else HOME[role]


def render(ctx: WebContext, template: str, status: int = 200, **values) -> HTMLResponse:
    """``template`` in the caller's language, with what every page uses: the caller, the CSRF
    field, the menu, and the labels of statuses, reasons, outcomes and scorers."""
    request = ctx.request
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    principal = ctx.principal
    html = environment(ctx.lang).get_template(template).render(
        ctx=ctx, principal=principal, csrf_field=CSRF_FIELD, csrf_token=ctx.csrf_token,
        here=here, role_name=ROLE_NAMES.get(principal.role) if principal else None,
        nav=NAV.get(principal.role, []) if principal else [],
        menu_unread=unread_count(ctx.engine, principal) if principal else 0,
        Role=Role, status_labels=STATUS_LABELS, reason_labels=REASON_LABELS,
        outcome_labels=OUTCOME_LABELS, scorer_labels=scorer_labels(),
        answer_labels=PARTNER_ANSWER_LABELS, partner_reason_labels=PARTNER_REASON_LABELS,
        comment_authors=COMMENT_AUTHORS, status_words=STATUS_WORDS, **values)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    return ctx.apply_cookies(response)


def redirect(ctx: WebContext, url: str) -> Response:
    """303 See Other: after a form, the browser follows with a GET."""
    response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
    return ctx.apply_cookies(response)
