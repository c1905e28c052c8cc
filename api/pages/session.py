"""Web sessions, CSRF tokens and forms for the pages.

- The session cookie holds a random id; the store keeps only its SHA-256, so a database leak
  signs nobody in. An anonymous visitor gets an id too (nothing stored), so that the sign-in and
  language forms are CSRF-protected like every other; signing in issues a new id (no fixation)
  and signing out deletes the stored session.
- The CSRF token of a form is an HMAC of the session id under a per-database secret: bound to
  the session, never the id itself, and checked on every POST before anything else.
- Cookies: HttpOnly, SameSite=Lax, Path=/, and Secure when ``MATCHER_WEB_SECURE_COOKIES``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request, Response
from starlette.formparsers import MultiPartException, MultiPartParser

from api.pages.config import WebSettings
from api.pages.i18n import choose_language
from matcher.principals import Principal
from matcher.ranking.engine import Engine
from matcher.services import sessions

SESSION_COOKIE = "dm_session"
LANG_COOKIE = "dm_lang"
CSRF_FIELD = "csrf_token"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


class SignInRequired(Exception):
    """The page needs a signed-in caller; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class PageNotFound(Exception):
    """Answered with the HTML not-found page (also what a caller sees of others' records)."""


class CsrfRejected(Exception):
    """A POST without the session's CSRF token (or from another origin): 403."""


class FormTooLarge(Exception):
    """A form body over the size cap: 413."""


@dataclass
class WebContext:
    """Who is asking, in which language, and the cookies the response must carry."""

    request: Request
    engine: Engine
    settings: WebSettings
    session_id: str
    lang: str
    principal: Principal | None = None
    session: dict = field(default_factory=dict)
    set_cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    delete_cookies: list[str] = field(default_factory=list)

    @property
    def csrf_token(self) -> str:
        """This session's CSRF token, masked afresh on each call: compressed pages then never
        repeat a secret byte for byte (BREACH)."""
        return mask_csrf(csrf_for(self.engine, self.session_id, self.request))

    # ------------------------------------------------------------------ session changes
    def sign_in(self, *, user_id: int | None = None, token_id: int | None = None) -> None:
        """Start a session (under a new id) for a user or a token."""
        session_id = new_session_id()
        found = sessions.start(self.engine, hash_session_id(session_id), user_id=user_id,
                               token_id=token_id, hours=self.settings.session_hours)
        if found is None:  # the user or token went away in between
            raise SignInRequired("/")
        self.session_id = session_id
        self.principal, self.session = found
        self.set_cookies[SESSION_COOKIE] = (self.session_id, None)

    def sign_out(self) -> None:
        sessions.end(self.engine, hash_session_id(self.session_id))
        self.principal = None
        self.session_id = new_session_id()
        self.set_cookies[SESSION_COOKIE] = (self.session_id, None)

    def choose_language(self, lang: str) -> None:
        self.lang = lang
        self.set_cookies[LANG_COOKIE] = (lang, LANG_COOKIE_SECONDS)

    def apply_cookies(self, response: Response) -> Response:
        for name, (value, max_age) in self.set_cookies.items():
            response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                                samesite="lax", secure=self.settings.secure_cookies)
        return response


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 43 characters


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _secret(engine: Engine, request: Request) -> bytes:
    state = request.app.state
    secret = getattr(state, "web_secret", None)
    if secret is None:
        secret = state.web_secret = sessions.web_secret(engine)
    return secret


def web_mac(engine: Engine, request: Request, message: bytes) -> str:
    """An HMAC of ``message`` under the database's web secret."""
    return hmac.new(_secret(engine, request), message, hashlib.sha256).hexdigest()


def csrf_for(engine: Engine, session_id: str, request: Request) -> str:
    return web_mac(engine, request, b"csrf:" + session_id.encode("ascii"))


def mask_csrf(token: str) -> str:
    """``token`` (hex) XORed with a random pad, the pad first: a new text each time."""
    raw = bytes.fromhex(token)
    pad = secrets.token_bytes(len(raw))
    return (pad + bytes(a ^ b for a, b in zip(pad, raw))).hex()


def unmask_csrf(sent: str) -> str:
    """The token a masked one carries ("" when it is not a masked token)."""
    try:
        both = bytes.fromhex(sent)
    except ValueError:
        return ""
    half = len(both) // 2
    if not both or len(both) % 2:
        return ""
    return bytes(a ^ b for a, b in zip(both[:half], both[half:])).hex()


def web_context(request: Request) -> WebContext:
    """The page dependency: session (if any), language, and a session id for anonymous
    visitors (set on the response)."""
    engine = request.app.state.engines.get()
    settings: WebSettings = request.app.state.web_settings
    cookie = request.cookies.get(SESSION_COOKIE, "")
    lang = choose_language(request.cookies.get(LANG_COOKIE),
                           request.headers.get("accept-language"))
    if not _SESSION_ID.match(cookie):
        ctx = WebContext(request, engine, settings, new_session_id(), lang)
        ctx.set_cookies[SESSION_COOKIE] = (ctx.session_id, None)
        return ctx
    ctx = WebContext(request, engine, settings, cookie, lang)
    found = sessions.current(engine, hash_session_id(cookie))
    if found is not None:
        ctx.principal, ctx.session = found
    return ctx


def visitor_context(request: Request) -> WebContext:
    """The caller as a visitor nobody signed in, from the request alone: for a page shown
    when the session cannot be read (the database out of reach). It sets no cookie."""
    lang = choose_language(request.cookies.get(LANG_COOKIE),
                           request.headers.get("accept-language"))
    return WebContext(request, request.app.state.engines.get(), request.app.state.web_settings,
                      new_session_id(), lang)


def require_principal(ctx: WebContext) -> Principal:
    if ctx.principal is None:
        path = ctx.request.url.path
        query = ctx.request.url.query
        raise SignInRequired(path + (f"?{query}" if query else ""))
    return ctx.principal


def _check_request(request: Request, content_type: str, cap: int) -> None:
    """A form must come from this site (when the browser says where it comes from), be of
    ``content_type``, and declare no more than ``cap`` bytes."""
    origin = request.headers.get("origin")
    if origin is not None and not _same_origin(origin, request):
        raise CsrfRejected()
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent != content_type:
        raise CsrfRejected()
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > cap):
        raise FormTooLarge()


async def read_form(request: Request, settings: WebSettings) -> dict[str, str]:
    """A URL-encoded form body (size-capped), checked for the session's CSRF token and, when the
    browser says where it comes from, for a same-origin ``Origin``."""
    _check_request(request, "application/x-www-form-urlencoded", settings.max_form_bytes)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_form_bytes:
            raise FormTooLarge()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise CsrfRejected() from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


@dataclass(frozen=True)
class Upload:
    """A file sent with a form: its name on the sender's machine and its bytes."""

    filename: str
    content: bytes


async def read_upload(request: Request, settings: WebSettings, max_file_bytes: int
                      ) -> tuple[dict[str, str], dict[str, Upload]]:
    """A ``multipart/form-data`` body with at most one file of at most ``max_file_bytes`` (and
    text fields capped as in :func:`read_form`): its fields and its file by field name. The
    same origin rule as :func:`read_form`; the caller checks the CSRF field."""
    cap = max_file_bytes + settings.max_form_bytes
    _check_request(request, "multipart/form-data", cap)

    async def capped() -> AsyncIterator[bytes]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > cap:
                raise FormTooLarge()
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=1, max_fields=20,
                             max_part_size=settings.max_form_bytes)
    try:
        data = await parser.parse()
    except MultiPartException:
        raise CsrfRejected() from None
    form: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for key, value in data.multi_items():
        if isinstance(value, str):
            form.setdefault(key, value)
            continue
        content = await value.read(max_file_bytes + 1)
        await value.close()
        if len(content) > max_file_bytes:
            raise FormTooLarge()
        files.setdefault(key, Upload(value.filename or "", content))
    return form, files


def check_csrf(ctx: WebContext, form: dict[str, str]) -> None:
    """403 unless the form carries this session's CSRF token."""
    sent = form.get(CSRF_FIELD, "")
    cookie = ctx.request.cookies.get(SESSION_COOKIE, "")
    if not sent or not _SESSION_ID.match(cookie) or cookie != ctx.session_id \
            or not hmac.compare_digest(unmask_csrf(sent),
                                       csrf_for(ctx.engine, ctx.session_id, ctx.request)):
        raise CsrfRejected()


def _same_origin(origin: str, request: Request) -> bool:
    if origin == "null":
        return False
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host and parts.scheme in ("http", "https")


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a local path may be a redirect target after a form (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path \
            or any(ord(c) < 32 for c in path):
        return default
    return path
