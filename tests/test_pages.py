"""The web pages through TestClient: sign-in and sign-out, sessions, CSRF, cookies, languages,
page weight and layout hints, and who may open which page. Runs the real model over the demo data
(the need pages ask the engine for suggestions)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from urllib.parse import urlencode

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from pages_support import (
    PASSWORD,
    csrf_of,
    page_fixtures,
    sign_in,
    sign_in_with_token,
    text_of,
)
from support import issue_token
from typer.testing import CliRunner

from api.app import create_app
from api.limits import DEFAULT_BODY_BYTES
from api.pages import ROUTERS
from api.pages.config import MAX_FORM_BYTES, WebSettings
from api.pages.i18n import choose_language, parse_accept_language, translations
from api.pages.labels import OUTCOME_LABELS, REASON_LABELS, STATUS_LABELS
from api.pages.messages import extract, key_of, lookup, read
from api.pages.render import HOME
from api.pages.session import CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE
from api.pages.signals import signal_bars
from api.throttle import FAILURE_LIMIT
from matcher.accounts.passwords import hash_password, verify_password
from matcher.accounts.users import check_password, create_user
from matcher.cli import app as cli_app
from matcher.errors import Conflict, InvalidInput
from matcher.exchange import MAX_TEXT
from matcher.principals import Role
from matcher.reference import UI_LANGUAGES
from matcher.settings import load_settings
from matcher.store import Store
from matcher.workflow import lifecycle

OWN_NEED = "demo-n-001"  # posted by demo-a-01
OTHER_NEED = "demo-n-004"  # posted by demo-a-02, same region
FAR_NEED = "demo-n-028"  # posted by demo-a-11, Latin America
PAGE_BUDGET = 100 * 1024
USERS = {  # username: (role, scope)
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "bolivia-member": (Role.ASSOCIATION, {"association_id": "demo-a-14"}),  # 1000 members
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
    "coord-latam": (Role.COORDINATOR, {"regions": ["latin_america_caribbean"]}),
    "admin-user": (Role.ADMIN, {}),
}


# ---------------------------------------------------------------------- fixtures
pages_db, app, module_client, client, engine = page_fixtures(USERS)


def set_cookie_headers(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


# ---------------------------------------------------------------------- sign-in and sign-out
@pytest.mark.parametrize("path", ["/", "/needs", "/profile", "/review", f"/needs/{OWN_NEED}"])
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/signin")
    if path != "/":
        assert location == f"/signin?next={path}"


def test_sign_in_with_password_lands_an_association_on_its_needs(client):
    response = sign_in(client, "amina")
    assert response.status_code == 303 and response.headers["location"] == "/needs"
    page = client.get("/needs")
    assert page.status_code == 200
    assert "Nkwanta Small-Scale Miners Association" in page.text
    assert f'href="/needs/{OWN_NEED}"' in page.text


def test_username_is_case_insensitive(client):
    assert sign_in(client, "  AMINA ").headers["location"] == "/needs"


def test_sign_in_returns_to_the_page_asked_for(client):
    response = sign_in(client, "amina", next_path="/profile")
    assert response.headers["location"] == "/profile"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client, target):
    assert sign_in(client, "amina", next_path=target).headers["location"] == "/needs"


@pytest.mark.parametrize("username,password", [("amina", "wrong-password-here"),
                                               ("nobody-here", PASSWORD), ("amina", "")])
def test_wrong_credentials_are_refused_without_a_session(client, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert client.get("/needs", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role,username", [(Role.ASSOCIATION, "amina"),
                                           (Role.PARTNER, "partner-user"),
                                           (Role.COORDINATOR, "coord-africa"),
                                           (Role.ADMIN, "admin-user")])
def test_every_role_lands_on_its_home(client, role, username):
    assert sign_in(client, username).headers["location"] == HOME[role]
    page = client.get(HOME[role])
    assert page.status_code == 200
    assert f'href="{HOME[role]}" aria-current="page"' in page.text  # first in its menu
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == HOME[role]


def test_sign_in_with_a_token(client, pages_db):
    _, token = issue_token(pages_db, Role.ASSOCIATION, association_id="demo-a-01",
                           label="pages test")
    response = sign_in_with_token(client, token)
    assert response.status_code == 303 and response.headers["location"] == "/needs"
    assert client.get("/needs").status_code == 200


def test_unknown_token_is_refused(client):
    response = sign_in_with_token(client, "dm_not-a-real-token")
    assert response.status_code == 401
    assert "This token is unknown or was revoked." in response.text


def test_revoking_the_token_ends_its_web_sessions(client, pages_db):
    token_id, token = issue_token(pages_db, Role.ASSOCIATION, association_id="demo-a-01",
                                  label="pages test")
    sign_in_with_token(client, token)
    assert client.get("/needs").status_code == 200
    store = Store(pages_db)
    store.revoke_token(token_id)
    store.close()
    assert client.get("/needs", follow_redirects=False).status_code == 303


def test_disabling_a_user_ends_their_sessions(client, pages_db):
    store = Store(pages_db)
    create_user(store, "short-lived", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    sign_in(client, "short-lived")
    assert client.get("/needs").status_code == 200
    store.disable_user("short-lived")
    store.close()
    assert client.get("/needs", follow_redirects=False).status_code == 303
    assert sign_in(client, "short-lived").status_code == 401


def test_sign_in_issues_a_new_session_id(client):
    anonymous = client.get("/signin").cookies.get(SESSION_COOKIE) \
        or client.cookies.get(SESSION_COOKIE)
    response = sign_in(client, "amina")
    signed_in = response.cookies.get(SESSION_COOKIE)
    assert anonymous and signed_in and anonymous != signed_in


def test_sign_out_ends_the_session_on_the_server(client, app):
    sign_in(client, "amina")
    old_cookie = client.cookies.get(SESSION_COOKIE)
    page = client.get("/needs")
    response = client.post("/signout", data={CSRF_FIELD: csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin?out=1"
    assert "You have signed out." in client.get("/signin?out=1").text
    # The old cookie, replayed from elsewhere, opens nothing any more.
    replay = TestClient(app, cookies={SESSION_COOKIE: old_cookie})
    assert replay.get("/needs", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_and_samesite_lax(client):
    headers = set_cookie_headers(sign_in(client, "amina"))
    cookie = headers[SESSION_COOKIE].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # unless configured: see the next test
    assert "max-age" not in cookie and "expires" not in cookie  # ends with the browser


def test_cookies_are_secure_when_configured(pages_db):
    app = create_app(load_settings(db=pages_db))
    app.state.web_settings = WebSettings(secure_cookies=True)
    with TestClient(app) as secure_client:
        headers = set_cookie_headers(secure_client.get("/signin"))
        assert "; secure" in headers[SESSION_COOKIE].lower()


def test_repeated_failures_are_rate_limited(client):
    for _ in range(FAILURE_LIMIT):
        assert sign_in(client, "amina", "wrong-password-here").status_code == 401
    response = sign_in(client, "amina")  # an attacked username: an unknown browser waits
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text


def test_session_id_is_stored_only_hashed(client, pages_db):
    sign_in(client, "amina")
    session_id = client.cookies.get(SESSION_COOKIE)
    store = Store(pages_db)
    try:
        hashes = [r[0] for r in
                  store.db.execute("select session_hash from web_sessions").fetchall()]
    finally:
        store.close()
    assert hashes and all(session_id not in h for h in hashes)


# ---------------------------------------------------------------------- CSRF
def post_routes() -> list[str]:
    return sorted(route.path for router in ROUTERS for route in router.routes
                  if "POST" in route.methods)


def test_every_page_post_route_is_listed():
    assert post_routes() == ["/admin/data/import", "/admin/users/new",
                             "/admin/users/tokens/new",
                             "/admin/users/tokens/{token_id}/revoke",
                             "/admin/users/{user_id}/disable",
                             "/admin/users/{user_id}/edit", "/admin/users/{user_id}/enable",
                             "/admin/users/{user_id}/password",
                             "/language", "/lessons/{lesson_id}/practice",
                             "/matches/{match_id}/accept",
                             "/matches/{match_id}/comments",
                             "/matches/{match_id}/decline",
                             "/matches/{match_id}/lesson", "/needs", "/needs/{need_id}/ask",
                             "/needs/{need_id}/not-interested",
                             "/needs/{record_id}/delete", "/needs/{record_id}/edit",
                             "/notifications/read-all", "/notifications/settings",
                             "/notifications/{notification_id}/read",
                             "/partner/matches/{match_id}/answer",
                             "/partner/offerings/new", "/partner/offerings/{offering_id}",
                             "/partner/offerings/{offering_id}/delete",
                             "/partner/offerings/{offering_id}/needs/{need_id}/offer",
                             "/partner/profile/edit", "/practices",
                             "/practices/{record_id}/delete", "/practices/{record_id}/edit",
                             "/profile/edit", "/review/bulk", "/review/{match_id}",
                             "/signin/password", "/signin/token", "/signout"]


@pytest.mark.parametrize("path", post_routes())
def test_post_without_a_csrf_token_is_403(client, path):
    sign_in(client, "amina")
    response = client.post(path, data={"lang": "fr", "username": "amina", "password": PASSWORD,
                                       "token": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert "Form expired" in response.text
    assert client.get("/needs", follow_redirects=False).status_code == 200  # still signed in


@pytest.mark.parametrize("path", post_routes())
def test_post_with_a_wrong_csrf_token_is_403(client, path):
    sign_in(client, "amina")
    good = csrf_of(client.get("/needs").text)
    wrong = ("0" if good[0] != "0" else "1") + good[1:]
    response = client.post(path, data={CSRF_FIELD: wrong, "lang": "fr"},
                           follow_redirects=False)
    assert response.status_code == 403


def test_csrf_token_of_another_session_is_403(client, app):
    other = TestClient(app)
    stolen = csrf_of(other.get("/signin").text)
    sign_in(client, "amina")
    response = client.post("/signout", data={CSRF_FIELD: stolen}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/needs", follow_redirects=False).status_code == 200


def test_sign_in_form_without_a_session_cookie_is_403(client, app):
    token = csrf_of(client.get("/signin").text)
    cookieless = TestClient(app)
    response = cookieless.post("/signin/password", data={
        CSRF_FIELD: token, "username": "amina", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_post_from_another_origin_is_403(client):
    page = client.get("/signin")
    response = client.post("/signin/password", data={
        CSRF_FIELD: csrf_of(page.text), "username": "amina", "password": PASSWORD},
        headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403


def test_same_origin_post_is_accepted(client):
    page = client.get("/signin")
    response = client.post("/signin/password", data={
        CSRF_FIELD: csrf_of(page.text), "username": "amina", "password": PASSWORD},
        headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert response.status_code == 303


def test_oversized_form_is_413(client):
    page = client.get("/signin")
    response = client.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text),
                                                  "token": "x" * (MAX_FORM_BYTES + 1)})
    assert response.status_code == 413


def test_form_cap_fits_the_longest_text_and_stays_under_the_body_cap():
    longest = urlencode({"description": "\U0001F60A" * MAX_TEXT})  # 12 bytes a character
    assert len(longest) + 8 * 1024 <= WebSettings().max_form_bytes <= DEFAULT_BODY_BYTES // 4


# ---------------------------------------------------------------------- languages
def test_accept_language_picks_the_page_language(client):
    page = client.get("/signin", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text and "Mot de passe" in page.text


def test_unsupported_accept_language_falls_back_to_english(client):
    page = client.get("/signin", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in page.text and "Password" in page.text


def test_chosen_language_beats_accept_language_and_persists(client):
    page = client.get("/signin", headers={"Accept-Language": "fr"})
    response = client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "pt",
                                              "next": "/signin"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    lang_cookie = set_cookie_headers(response)[LANG_COOKIE].lower()
    assert "httponly" in lang_cookie and "samesite=lax" in lang_cookie
    again = client.get("/signin", headers={"Accept-Language": "fr"})
    assert '<html lang="pt">' in again.text and "Senha" in again.text


def test_language_choice_survives_sign_in_and_sign_out(client):
    page = client.get("/signin")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "es", "next": "/"})
    sign_in(client, "amina")
    needs = client.get("/needs")
    assert "Sus necesidades" in needs.text
    client.post("/signout", data={CSRF_FIELD: csrf_of(needs.text)})
    assert "Ha cerrado la sesión." in client.get("/signin?out=1").text


def test_unknown_language_choice_is_ignored(client):
    page = client.get("/signin")
    response = client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "xx"},
                           follow_redirects=False)
    assert LANG_COOKIE not in set_cookie_headers(response)


@pytest.mark.parametrize("header,expected", [
    ("fr-CA,fr;q=0.9,en;q=0.8", ["fr", "en"]),
    ("en;q=0.2, pt-BR;q=0.8, es", ["es", "pt", "en"]),
    ("de, *;q=0.5", []),
    ("fr;q=0, es;q=0.5", ["es"]),
    ("fr;q=oops, pt", ["pt"]),
    ("", []),
    (None, []),
])
def test_accept_language_parsing(header, expected):
    assert parse_accept_language(header) == expected


def test_choice_first_then_accept_language_then_english():
    assert choose_language("pt", "fr") == "pt"
    assert choose_language("xx", "fr") == "fr"
    assert choose_language(None, "de") == "en"


@pytest.mark.parametrize("lang", [lang for lang in UI_LANGUAGES if lang != "en"])
def test_every_page_message_is_translated(lang):
    catalogue = read(lang)
    placeholders = re.compile(r"%\(\w+\)s")
    problems = []
    for msgid in extract():
        message = lookup(catalogue, msgid)
        if message is None or not message.string:
            problems.append(f"missing: {msgid!r}")
        elif sorted(placeholders.findall(msgid)) != sorted(placeholders.findall(message.string)):
            problems.append(f"placeholders differ: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
    assert not problems, f"{lang}/web.po:\n" + "\n".join(problems)


def test_catalogues_hold_no_stale_messages():
    current = set(extract())
    for lang in UI_LANGUAGES:
        stale = {key_of(m) for m in read(lang) if m.id} - current
        assert not stale, f"{lang}/web.po has messages no page uses: {sorted(stale)}"


def test_the_portuguese_pages_and_emails_say_voce_never_voces():
    from matcher.reference import default_data_dir

    folder = default_data_dir() / "locale" / "pt" / "LC_MESSAGES"
    plural = re.compile(r"\bvocês\b|\b(Peçam|Abram|Acompanhem|Perguntem|escrevam)\b",
                        re.IGNORECASE)
    for name in ("web.po", "messages.po"):
        found = [line for line in (folder / name).read_text(encoding="utf-8").splitlines()
                 if line.startswith(("msgstr", '"')) and plural.search(line)]
        assert not found, f"pt/{name} speaks to many: {found}"


def test_a_partners_slots_have_one_name_on_every_page():
    assert "Slots in use" in extract() and "Places taken" not in extract()


def test_translations_compile_from_po_at_run_time():
    assert translations("fr").gettext("Sign out") == "Se déconnecter"
    assert translations("en").gettext("Sign out") == "Sign out"


def test_numbers_follow_the_page_language(client):
    sign_in(client, "bolivia-member")
    english = client.get("/profile", headers={"Accept-Language": "en"}).text
    assert "1,000" in text_of(english)
    page = client.get("/profile")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = client.get("/profile").text
    assert "<dd>1\u202f000</dd>" in french  # a narrow no-break space groups thousands
    assert "Bolivie" in french  # the country named in French too


def test_dates_follow_the_page_language(client, pages_db):
    sign_in(client, "admin-user")
    store = Store(pages_db)
    user = next(u for u in store.users() if u["username"] == "admin-user")
    store.close()
    created = datetime.fromisoformat(user["created_at"])
    page = client.get("/admin/users")
    english = format_date(created, format="long", locale="en")
    assert f"<dt>Created</dt><dd>{english}</dd>" in unescape(page.text)
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = format_date(created, format="long", locale="fr")
    assert french != english
    assert f"<dt>Créé le</dt><dd>{french}</dd>" in unescape(client.get("/admin/users").text)


# ---------------------------------------------------------------------- pages
PAGES = {  # page: who opens it (every page of every role is listed here)
    "/signin": None,
    # association
    "/needs": "amina",
    "/profile": "amina",
    f"/needs/{OWN_NEED}": "amina",
    "/profile/edit": "amina",
    f"/needs/{OWN_NEED}/edit": "amina",
    f"/needs/{OWN_NEED}/delete": "amina",
    "/practices/demo-pr-001/edit": "amina",
    "/practices/demo-pr-001/delete": "amina",
    "/matches": "amina",
    "/exchanges": "amina",
    "/practices/demo-pr-009": "amina",
    "/offerings/demo-o-001": "amina",
    # partner
    "/partner/offerings": "partner-user",
    "/partner/offerings/new": "partner-user",
    "/partner/offerings/demo-o-001": "partner-user",
    "/partner/offerings/demo-o-001/delete": "partner-user",
    "/partner/offerings/demo-o-003/needs": "partner-user",
    "/partner/matches": "partner-user",
    "/partner/profile": "partner-user",
    "/partner/profile/edit": "partner-user",
    # coordinator
    "/review": "coord-africa",
    "/dashboard": "coord-africa",
    # admin
    "/admin/users": "admin-user",
    "/admin/users/new": "admin-user",
    "/admin/users/tokens/new": "admin-user",
    "/admin/users/1/disable": "admin-user",
    "/admin/users/1/edit": "admin-user",
    "/admin/users?q=admin": "admin-user",
    "/admin/plugins": "admin-user",
    "/admin/data": "admin-user",
    "/admin/outbox": "admin-user",
    # everyone
    "/notifications": "amina",
    "/notifications/settings": "coord-africa",
    "/search?q=mercury": "coord-africa",
    "/search": "amina",
    "/search?q=credit": "partner-user",
    "/library": "amina",
    "/library?q=mercury&category=mercury&language=en": "coord-africa",
    "/library?region=africa_anglophone&commodity=gold": "partner-user",
    "/library?category=nonsense&page=x": "admin-user",
    "/library/digest": "amina",
    "/library/digest?topic=ohs&region=africa_anglophone": "partner-user",
}


def open_page(client: TestClient, path: str, username: str | None):
    if username:
        sign_in(client, username)
    return client.get(path)


@pytest.mark.parametrize("path,username", PAGES.items())
def test_every_page_fits_a_phone(client, path, username):
    page = open_page(client, path, username)
    assert page.status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert re.search(r'<html lang="(en|fr|es|pt)">', page.text)
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere


@pytest.mark.parametrize("path,username", PAGES.items())
def test_every_page_weighs_at_most_100_kb_with_its_assets(client, path, username):
    page = open_page(client, path, username)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert assets, "a page links its stylesheet"
    total = len(page.content)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.content)
    assert total <= PAGE_BUDGET, f"{path}: {total} bytes"


@pytest.mark.parametrize("path,username", PAGES.items())
def test_every_page_sends_security_headers(client, path, username):
    page = open_page(client, path, username)
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_every_form_control_has_a_label(client):
    pages = [open_page(client, path, username).text for path, username in PAGES.items()]
    for html in pages:
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in control:
                continue
            control_id = re.search(r'id="([^"]+)"', control)
            assert control_id, f"control without id: {control}"
            assert f'for="{control_id.group(1)}"' in html, f"unlabelled control: {control}"


def test_page_routes_stay_out_of_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    page_paths = {route.path for router in ROUTERS for route in router.routes}
    assert len(page_paths) >= 9 and not page_paths & set(paths)


def test_need_page_shows_partners_and_peers_with_reasons_and_bars(client):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Partners who could help" in text and "Associations that solved something" in text
    assert "Offered by " in text and "A practice of " in text
    assert "topic: Occupational health and safety" in text  # the engine's own reasons
    assert "Same topic" in text and "Close in meaning" in text  # scorers in plain words
    assert re.search(r'class="fill w\d+', page.text)
    # Peers never include the association's own practices.
    assert "A practice of Nkwanta" not in text


def test_need_page_reasons_follow_the_language(client):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}")
    client.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "fr"})
    french = text_of(client.get(f"/needs/{OWN_NEED}").text)
    assert "Partenaires qui pourraient aider" in french
    assert "thème : Santé et sécurité au travail" in french  # localised by the engine
    assert re.search(r"(Bonne|Très bonne) correspondance · \d+\s%", french)  # French %
    assert not re.search(r"[+-]\d+,\d\d", french)  # no unitless score


def test_need_page_limit_is_capped(client):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}?limit=500")
    assert page.status_code == 200
    assert page.text.count('class="card"') <= 40
    assert client.get(f"/needs/{OWN_NEED}?limit=abc").status_code == 200


def test_association_cannot_open_another_associations_need(client):
    sign_in(client, "amina")
    other = client.get(f"/needs/{OTHER_NEED}")
    missing = client.get("/needs/demo-n-nope")
    assert other.status_code == 404 and missing.status_code == 404
    # Someone else's need looks exactly like a missing one.
    assert text_of(other.text) == text_of(missing.text)
    assert "demo-a-02" not in other.text


def test_partner_cannot_open_need_pages(client):
    sign_in(client, "partner-user")
    assert client.get(f"/needs/{OWN_NEED}").status_code == 404


def test_coordinator_opens_need_pages_of_their_region_only(client):
    sign_in(client, "coord-africa")
    assert client.get(f"/needs/{OWN_NEED}").status_code == 200
    assert client.get(f"/needs/{FAR_NEED}").status_code == 404


def test_non_association_roles_are_sent_home_from_association_pages(client):
    sign_in(client, "admin-user")
    for path in ("/needs", "/profile", "/profile/edit", "/matches"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == HOME[Role.ADMIN]


def test_needs_page_lists_needs_and_practices_and_marks_sensitive_ones(client, pages_db):
    store = Store(pages_db)
    create_user(store, "sgbv-member", PASSWORD, Role.ASSOCIATION, association_id="demo-a-02")
    store.close()
    sign_in(client, "sgbv-member")
    page = client.get("/needs")
    assert page.text.count('class="card"') == 3 + 1  # three needs, one practice
    assert "Sensitive" in page.text  # demo-n-005 is in the sgbv category


def test_static_files_are_served_without_a_session(client):
    css = client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text  # no fonts or images from elsewhere


def test_labels_cover_every_status_reason_and_outcome():
    assert set(STATUS_LABELS) == set(lifecycle.STATES)
    assert set(REASON_LABELS) == set(lifecycle.REJECT_REASONS)
    assert set(OUTCOME_LABELS) == set(lifecycle.OUTCOMES)


def test_signal_bars_scale_to_the_largest_and_keep_a_sliver_for_small_values():
    bars = signal_bars({"category": 0.5, "lexical": -1.0, "plugin_x": 0.01, "language": 0.0})
    assert [(b["name"], b["width"], b["negative"]) for b in bars] == [
        ("category", 100, False), ("lexical", 0, True), ("plugin_x", 5, False),
        ("language", 0, False)]  # never a bar below zero: one that counted against is empty
    assert [b["amount"] for b in bars] == [
        "counted a lot", "did not count", "counted a little", "did not count"]
    assert bars[0]["label"] == "Same topic" and bars[2]["label"] is None
    assert [b["width"] for b in signal_bars({"category": 0.5}, scale=2.0)] == [25]
    strongest = signal_bars({"lexical": 0.1, "category": 0.9}, strongest_first=True)
    assert [b["name"] for b in strongest] == ["category", "lexical"]
    assert signal_bars(None) == [] and signal_bars({"lexical": 0.0})[0]["width"] == 0
    # the public pages show the signals that took part (for or against) only
    public = signal_bars({"category": 0.5, "proven": 0.0, "lexical": -0.2}, public=True)
    assert [(b["label"], b["negative"]) for b in public] == [
        ("Same topic", False), ("Words in common", True)]


def test_public_signal_bars_name_no_engine():
    bars = signal_bars({"semantic": 1.0, "semantic_minilm": 0.5, "category": 2.0}, public=True)
    assert [(b["label"], b["value"]) for b in bars] == [("Close in meaning", 1.5),
                                                        ("Same topic", 2.0)]
    detail = signal_bars({"semantic": 1.0, "semantic_minilm": 0.5})
    assert [b["label"] for b in detail] == ["Close in meaning",
                                            "Close in meaning (English model)"]


# ---------------------------------------------------------------------- users in the store
def test_password_is_stored_only_as_a_salted_scrypt_hash(store):
    create_user(store, "someone", PASSWORD, Role.ADMIN)
    create_user(store, "someone-else", PASSWORD, Role.ADMIN)
    hashes = [r[0] for r in store.db.execute("select password_hash from users").fetchall()]
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in hashes)
    assert hashes[0] != hashes[1]  # a salt each
    assert check_password(store, "Someone", PASSWORD) is not None
    assert check_password(store, "someone", PASSWORD + "x") is None


@pytest.mark.parametrize("stored", [None, "", "scrypt$16384$8$1$!!!$abc", "bcrypt$x",
                                    "scrypt$x$8$1$AA==$AA=="])
def test_missing_or_malformed_hash_matches_nothing(stored):
    assert verify_password(PASSWORD, stored) is False
    assert verify_password(PASSWORD, hash_password(PASSWORD)) is True


def test_duplicate_username_and_weak_password_are_refused(store):
    create_user(store, "someone", PASSWORD, Role.ADMIN)
    with pytest.raises(Conflict):
        create_user(store, "SOMEONE", PASSWORD, Role.ADMIN)
    with pytest.raises(InvalidInput):
        create_user(store, "another", "short", Role.ADMIN)
    with pytest.raises(InvalidInput):
        create_user(store, "x", PASSWORD, Role.ADMIN)


def test_cli_creates_a_user_from_stdin_and_lists_it(demo_copy):
    runner = CliRunner()
    result = runner.invoke(cli_app, ["user", "create", "--username", "Kofi", "--role",
                                     "association", "--association", "demo-a-01",
                                     "--password-stdin", "--db", str(demo_copy)],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "kofi (association)" in result.output
    listing = runner.invoke(cli_app, ["user", "list", "--db", str(demo_copy)])
    assert "kofi" in listing.output and "demo-a-01" in listing.output
    assert PASSWORD not in listing.output
    store = Store(demo_copy)
    assert check_password(store, "kofi", PASSWORD) is not None
    store.close()


@pytest.mark.parametrize("args,message", [
    (["--role", "association"], "needs --association"),
    (["--role", "partner", "--association", "demo-a-01"], "does not apply"),
    (["--role", "association", "--association", "nope"], "no association"),
    (["--role", "coordinator", "--region", "atlantis"], "unknown region"),
    (["--role", "king"], "--role must be one of"),
])
def test_cli_refuses_a_bad_user_scope(demo_copy, args, message):
    result = CliRunner().invoke(cli_app, ["user", "create", "--username", "kofi", *args,
                                          "--password-stdin", "--db", str(demo_copy)],
                                input=PASSWORD + "\n")
    assert result.exit_code == 1 and message in result.output


def test_cli_refuses_a_short_password(demo_copy):
    result = CliRunner().invoke(cli_app, ["user", "create", "--username", "kofi", "--role",
                                          "admin", "--password-stdin", "--db", str(demo_copy)],
                                input="short\n")
    assert result.exit_code == 1 and "at least" in result.output


def test_cli_disable_user(demo_copy):
    store = Store(demo_copy)
    create_user(store, "kofi", PASSWORD, Role.ADMIN)
    store.close()
    result = CliRunner().invoke(cli_app, ["user", "disable", "kofi", "--db", str(demo_copy)])
    assert result.exit_code == 0, result.output
    store = Store(demo_copy)
    assert check_password(store, "kofi", PASSWORD) is None
    store.close()
