"""The admin's pages through TestClient: users and tokens (create, shown once, disable,
revoke), the scorers with their weights and health, and the exchange in bulk (import all or
nothing, export); only admins see any of it. Also the role-and-scope check the pages share
with ``matcher user create`` and ``matcher token create``, and scorer health in the API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import PASSWORD, csrf_of, page_fixtures, post, sign_in, text_of
from support import bearer
from typer.testing import CliRunner

from api.limits import Limits
from api.pages.session import CSRF_FIELD
from matcher import hookimpl
from matcher.accounts.users import BadScope, check_scope, create_user
from matcher.cli import app as cli_app
from matcher.plugins import get_plugin_manager
from matcher.principals import Principal, Role
from matcher.ranking.scoring import Scorer
from matcher.services import rights
from matcher.store import Store

USERS = {  # username: (role, scope)
    "root-admin": (Role.ADMIN, {}),
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
}
OTHERS = ["amina", "partner-user", "coord-africa"]
NEW_PASSWORD = "a-fresh-initial-password"
GET_PAGES = ["/admin/users", "/admin/users/new", "/admin/users/tokens/new", "/admin/plugins",
             "/admin/data", "/admin/data/export", "/admin/users/1/disable",
             "/admin/users/tokens/1/revoke", "/admin/users/1/edit"]
ADMIN = Principal(role=Role.ADMIN)


# ---------------------------------------------------------------------- fixtures
def _with_a_token(db: Path) -> None:
    store = Store(db)
    store.create_token(Role.ASSOCIATION, association_id="demo-a-01", label="first token")
    store.close()


pages_db, app, module_client, client, engine = page_fixtures(USERS, _with_a_token)


@pytest.fixture
def admin(client):
    """The client, signed in as the admin."""
    assert sign_in(client, "root-admin").headers["location"] == "/admin/users"
    return client


@pytest.fixture
def store(engine):
    """The app's own store (reads see the pages' writes at once)."""
    return engine.store


def user_form(**fields) -> dict:
    return {"username": "kofi", "password": NEW_PASSWORD, "password2": NEW_PASSWORD,
            "role": "association", "association": "demo-a-01", **fields}


def snapshot(store: Store) -> tuple:
    return store.users(), store.tokens(), store.data_version()


# ---------------------------------------------------------------------- who may open what
def test_admin_lands_on_users_and_tokens_with_the_admin_menu(admin):
    page = admin.get("/admin/users")
    assert page.status_code == 200
    for path in ("/admin/users", "/admin/plugins", "/admin/data", "/review", "/dashboard"):
        assert f'href="{path}"' in page.text
    assert 'href="/admin/users" aria-current="page"' in page.text


@pytest.mark.parametrize("username", OTHERS)
def test_other_roles_get_not_found_on_every_admin_page(client, username):
    sign_in(client, username)
    missing = text_of(client.get("/needs/demo-n-nope").text)  # a missing record
    for path in GET_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert text_of(response.text) == missing  # looks exactly like a missing page
        assert "root-admin" not in response.text and "first token" not in response.text


@pytest.mark.parametrize("username", OTHERS)
def test_other_roles_cannot_post_to_admin_forms(client, store, username):
    sign_in(client, username)
    before = snapshot(store)
    forms = [("/admin/users/new", user_form(username=f"by-{username}")),
             ("/admin/users/tokens/new", {"role": "admin", "label": "sneaky"}),
             ("/admin/users/2/disable", {}), ("/admin/users/tokens/1/revoke", {}),
             ("/admin/users/2/enable", {}), ("/admin/users/2/edit", {"role": "admin"}),
             ("/admin/users/2/password", {"password": NEW_PASSWORD,
                                          "password2": NEW_PASSWORD})]
    for action, data in forms:
        assert post(client, action, data).status_code == 404, action
    token = csrf_of(client.get("/signin").text)
    upload = client.post("/admin/data/import", data={CSRF_FIELD: token},
                         files={"file": ("x.json", b'{"partners": [], "associations": []}')})
    assert upload.status_code == 404
    assert snapshot(store) == before


@pytest.mark.parametrize("path", GET_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/signin?next={path}"


# ---------------------------------------------------------------------- users
def test_users_page_lists_users_and_tokens_never_their_secrets(admin, store):
    _, secret = store.create_token(Role.PARTNER, partner_id="demo-p-01", label="partner desk")
    page = admin.get("/admin/users")
    text = text_of(page.text)
    assert "amina" in text and "Association member" in text
    assert "Nkwanta Small-Scale Miners Association" in text  # the scope, by name
    assert "Africa (anglophone)" in text and "Everything" in text
    assert "partner desk" in text and "Safe Shafts Initiative" in text
    hashes = [r[0] for r in store.db.execute(
        "select password_hash from users union all select token_hash from tokens")]
    assert secret not in page.text and not any(h in page.text for h in hashes)
    assert "scrypt$" not in page.text


def test_create_user_then_the_user_signs_in_with_that_password(admin, app, store):
    response = post(admin, "/admin/users/new", user_form(username="Kwame.Mensah"))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/users?done=user-created&id=")
    notice = text_of(admin.get(response.headers["location"]).text)
    assert "User kwame.mensah was created: they can sign in now." in notice
    created = [u for u in store.users() if u["username"] == "kwame.mensah"][0]
    assert created["role"] == "association" and created["association_id"] == "demo-a-01"
    newcomer = TestClient(app)  # another browser (the app's lifespan is the module's)
    assert sign_in(newcomer, "kwame.mensah", NEW_PASSWORD).headers["location"] == "/needs"


def test_create_a_coordinator_with_regions(admin, store):
    response = post(admin, "/admin/users/new", user_form(
        username="coord-two", role="coordinator", association="",
        **{"region-africa_anglophone": "1", "region-southeast_asia_pacific": "1"}))
    assert response.status_code == 303
    created = [u for u in store.users() if u["username"] == "coord-two"][0]
    assert created["regions"] == ["africa_anglophone", "southeast_asia_pacific"]


@pytest.mark.parametrize("fields,field,message", [
    ({"username": "x"}, "username", "A username has 3 to 64 characters"),
    ({"username": "no spaces here"}, "username", "A username has 3 to 64 characters"),
    ({"username": "a" * 65}, "username", "A username has 3 to 64 characters"),
    ({"password": "short", "password2": "short"}, "password", "A password has 10 to 1024"),
    ({"password2": "something-else-entirely"}, "password2", "The two passwords are not"),
    ({"association": ""}, "association", "An association member needs their association."),
    ({"association": "demo-a-nope"}, "association", "There is no such association."),
    ({"partner": "demo-p-01"}, "partner", "This does not apply to the role chosen"),
    ({"role": "partner", "association": ""}, "partner", "A partner member needs their"),
    ({"role": "coordinator", "association": ""}, "regions", "A coordinator needs at least"),
    ({"role": "coordinator", "association": "", "region-atlantis": "1"}, "regions",
     "There is no such region."),
    ({"role": "king"}, "role", "Choose one of the roles."),
    ({"username": "AMINA"}, "username", "This username is already taken."),
])
def test_bad_new_user_is_refused_with_a_message_and_nothing_written(admin, store, fields,
                                                                     field, message):
    before = snapshot(store)
    response = post(admin, "/admin/users/new", user_form(**fields))
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert f'id="{field}-error"' in response.text
    if field != "regions":  # a fieldset is described by its error, not marked invalid
        assert 'aria-invalid="true"' in response.text
    assert snapshot(store) == before
    username = fields.get("username", "kofi")
    assert f'value="{username}"' in response.text  # the input is kept...
    assert NEW_PASSWORD not in response.text  # ...but never the password


def test_disabling_a_user_asks_first_then_ends_their_sessions(admin, app, store):
    create_user(store, "leaving-soon", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    user = [u for u in store.users() if u["username"] == "leaving-soon"][0]
    member = TestClient(app)
    sign_in(member, "leaving-soon")
    assert member.get("/needs").status_code == 200
    confirm = admin.get(f"/admin/users/{user['id']}/disable")
    assert confirm.status_code == 200
    assert "Disable user leaving-soon?" in text_of(confirm.text)
    assert not store.users(user["id"])[0]["disabled_at"]  # asking changed nothing
    response = post(admin, f"/admin/users/{user['id']}/disable", {})
    assert response.status_code == 303
    assert "User leaving-soon was disabled" in text_of(
        admin.get(response.headers["location"]).text)
    assert store.users(user["id"])[0]["disabled_at"]
    assert member.get("/needs", follow_redirects=False).status_code == 303
    assert sign_in(member, "leaving-soon").status_code == 401
    again = post(admin, f"/admin/users/{user['id']}/disable", {})
    assert again.status_code == 409 and "already disabled" in again.text


def test_admin_cannot_disable_their_own_account(admin, store):
    me = [u for u in store.users() if u["username"] == "root-admin"][0]
    page = admin.get(f"/admin/users/{me['id']}/disable")
    assert "You cannot disable your own account." in text_of(page.text)
    assert 'action="/admin/users/' not in page.text
    response = post(admin, f"/admin/users/{me['id']}/disable", {}, page="/admin/users")
    assert response.status_code == 409
    assert not store.users(me["id"])[0]["disabled_at"]
    assert admin.get("/admin/users").status_code == 200  # still signed in


@pytest.mark.parametrize("path", ["/admin/users/99999/disable", "/admin/users/abc/disable",
                                  "/admin/users/tokens/99999/revoke",
                                  "/admin/users/tokens/-1/revoke"])
def test_unknown_users_and_tokens_are_not_found(admin, path):
    assert admin.get(path).status_code == 404
    token = csrf_of(admin.get("/admin/users").text)
    assert admin.post(path, data={CSRF_FIELD: token}).status_code == 404


# ---------------------------------------------------------------------- tokens
def test_new_token_is_shown_once_and_works(admin, app, store):
    response = post(admin, "/admin/users/tokens/new", {
        "label": "Ghana field office", "role": "coordinator",
        "region-africa_anglophone": "1"})
    assert response.status_code == 200
    text = text_of(response.text)
    assert "shown only this once" in text and "Africa (anglophone)" in text
    token = response.text.split('id="new-token"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert token.startswith("dm_")
    principal = store.principal_for(token)
    assert principal.role is Role.COORDINATOR
    assert principal.regions == frozenset({"africa_anglophone"})
    assert token not in admin.get("/admin/users").text  # never again
    api = TestClient(app).get("/api/v1/plugins", headers=bearer(token))
    assert api.status_code == 200


@pytest.mark.parametrize("fields,message", [
    ({"role": "association"}, "An association member needs their association."),
    ({"role": "partner", "partner": "demo-p-nope"}, "There is no such partner."),
    ({"role": "admin", "partner": "demo-p-01"}, "This does not apply to the role chosen"),
    ({"role": "admin", "label": "x" * 201}, "A label has at most 200 characters."),
    ({"role": ""}, "Choose one of the roles."),
])
def test_bad_new_token_is_refused_with_a_message_and_nothing_written(admin, store, fields,
                                                                     message):
    before = snapshot(store)
    response = post(admin, "/admin/users/tokens/new", {"label": "kept label", **fields})
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert snapshot(store) == before
    assert "dm_" not in response.text
    if "label" not in fields:
        assert 'value="kept label"' in response.text


def test_revoking_a_token_asks_first_then_ends_it_everywhere(admin, app, store):
    token_id, token = store.create_token(Role.ASSOCIATION, association_id="demo-a-01",
                                         label="to revoke")
    holder = TestClient(app)
    page = holder.get("/signin")
    holder.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text), "token": token})
    assert holder.get("/needs").status_code == 200
    confirm = admin.get(f"/admin/users/tokens/{token_id}/revoke")
    assert f"Revoke token {token_id}?" in text_of(confirm.text)
    assert store.principal_for(token) is not None  # asking changed nothing
    response = post(admin, f"/admin/users/tokens/{token_id}/revoke", {}, page="/admin/users")
    assert response.status_code == 303
    assert f"Token {token_id} was revoked" in text_of(
        admin.get(response.headers["location"]).text)
    assert store.principal_for(token) is None
    assert holder.get("/needs", follow_redirects=False).status_code == 303
    api = holder.get("/api/v1/plugins", headers=bearer(token))
    assert api.status_code == 401
    again = post(admin, f"/admin/users/tokens/{token_id}/revoke", {}, page="/admin/users")
    assert again.status_code == 409 and "already revoked" in again.text


def test_revoking_the_token_one_is_signed_in_with_signs_out(client, store):
    token_id, token = store.create_token(Role.ADMIN, label="admin laptop")
    page = client.get("/signin")
    client.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text), "token": token})
    confirm = client.get(f"/admin/users/tokens/{token_id}/revoke")
    assert "You are signed in with this token" in text_of(confirm.text)
    response = post(client, f"/admin/users/tokens/{token_id}/revoke", {}, page="/admin/users")
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert client.get("/admin/users", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------- CSRF
ADMIN_POSTS = ["/admin/users/new", "/admin/users/tokens/new", "/admin/users/2/disable",
               "/admin/users/tokens/1/revoke", "/admin/data/import"]


@pytest.mark.parametrize("action", ADMIN_POSTS)
def test_admin_forms_without_the_csrf_token_are_403_and_write_nothing(admin, store, action):
    before = snapshot(store)
    plain = admin.post(action, data=user_form(), follow_redirects=False)
    good = csrf_of(admin.get("/admin/users").text)
    wrong = ("0" if good[0] != "0" else "1") + good[1:]
    files = {"file": ("x.json", json.dumps(new_document()).encode())} \
        if action == "/admin/data/import" else None
    forged = admin.post(action, data={CSRF_FIELD: wrong, **user_form()}, files=files,
                        follow_redirects=False)
    assert plain.status_code == 403 and forged.status_code == 403
    assert "Form expired" in plain.text
    assert snapshot(store) == before


def test_malformed_upload_is_403(admin, store):
    before = store.data_version()
    response = admin.post("/admin/data/import", content=b"--xyz\r\ngarbage",
                          headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert response.status_code == 403 and store.data_version() == before


def test_import_form_from_another_origin_is_403(admin):
    token = csrf_of(admin.get("/admin/data").text)
    response = admin.post("/admin/data/import", data={CSRF_FIELD: token},
                          files={"file": ("x.json", b'{"partners": [], "associations": []}')},
                          headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


# ---------------------------------------------------------------------- scorers
def test_scorers_page_shows_what_the_api_reports(admin, store):
    token = store.create_token(Role.ADMIN, label="plugins check")[1]
    api = admin.get("/api/v1/plugins", headers=bearer(token)).json()
    page = admin.get("/admin/plugins")
    assert page.status_code == 200
    text = text_of(page.text)
    for scorer in api["scorers"]:
        assert f"<code>{scorer['name']}</code>" in page.text
        assert scorer["description"] in text
    assert "Built in" in text and "Words in common" in text  # plain words for built-ins
    assert "Weight for partners" in text and "2.00" in text  # category's partner weight
    assert "(not used)" in text  # the language scorer has weight 0
    assert "Peer associations" in text  # geography serves peers only


class Explodes(Scorer):
    name = "test_explodes"
    description = "raises, quoting the need"
    kinds = frozenset({"partner"})

    def score(self, ctx):
        raise RuntimeError("secret need text: " + ctx.query.need["text"])


class ExplodingPlugin:
    @hookimpl
    def register_scorers(self, register):
        register(Explodes())


@pytest.fixture
def exploding():
    pm = get_plugin_manager()
    plugin = ExplodingPlugin()
    pm.register(plugin, name="test-exploding")
    try:
        yield
    finally:
        pm.unregister(plugin)


def test_health_follows_the_calls_and_never_quotes_an_error(admin, app, store, exploding):
    engine = app.state.engines.get()
    engine.suggest("demo-n-001", "partner", weights={"test_explodes": 1.0})
    need_text = store.get("needs", "demo-n-001")["text"]
    token = store.create_token(Role.ADMIN, label="health check")[1]
    api = admin.get("/api/v1/plugins", headers=bearer(token)).json()
    health = {s["name"]: s["health"] for s in api["scorers"]}
    assert health["semantic"]["status"] == "ok" and health["semantic"]["calls"] >= 1
    assert health["test_explodes"]["status"] == "failing"
    assert health["test_explodes"]["failures"] >= 1
    assert health["test_explodes"]["last_problem"] == "raised RuntimeError"
    page = admin.get("/admin/plugins")
    text = text_of(page.text)
    assert "Failing" in text and "raised RuntimeError" in text and "Working" in text
    assert need_text not in page.text and "secret need text" not in json.dumps(api)


# ---------------------------------------------------------------------- import and export
def new_document(id: str = "a-admin-import", **overrides) -> dict:
    """An exchange document with one association ``id`` and its one need."""
    association = {"id": id, "name": "Imported Miners Group", "country": "GH",
                   "region": "africa_anglophone", "languages": ["en"], "commodities": ["gold"],
                   "members": 40, "description": "A test group.",
                   "needs": [{"id": f"n-{id}-1", "text": "We need help with pit safety and "
                              "shoring.", "category": "ohs"}],
                   "practices": []}
    association.update(overrides)
    return {"partners": [], "associations": [association]}


def upload(client: TestClient, content: bytes, name: str = "exchange.json"):
    token = csrf_of(client.get("/admin/data").text)
    return client.post("/admin/data/import", data={CSRF_FIELD: token},
                       files={"file": (name, content, "application/json")})


def test_import_page_offers_a_file_upload_and_the_export(admin):
    page = admin.get("/admin/data")
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text
    assert 'href="/admin/data/export"' in page.text
    assert "at most 20 MB" in text_of(page.text)


def test_import_shows_counts_per_table_and_writes_the_records(admin, store):
    response = upload(admin, json.dumps(new_document()).encode(), "groups.json")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Imported: groups.json" in text and "The file was imported." in text
    assert "Associations 1 0 0" in text and "Needs 1 0 0" in text
    assert "Partners 0 0 0" in text
    assert store.get("associations", "a-admin-import")["name"] == "Imported Miners Group"
    again = text_of(upload(admin, json.dumps(new_document(members=41)).encode()).text)
    assert "Associations 0 1 0" in again and "Needs 0 0 1" in again


def test_import_with_one_bad_record_writes_nothing_and_names_it(admin, store):
    document = new_document(id="a-admin-bad")
    document["associations"][0]["needs"].append({"id": "n-admin-bad-2", "text": "",
                                                 "category": "ohs"})
    document["associations"].insert(0, {**new_document(id="a-admin-good")["associations"][0],
                                        "needs": [], "practices": []})
    before = rights.export_document(ADMIN, store), store.data_version()
    response = upload(admin, json.dumps(document).encode())
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Nothing was imported" in text
    assert "record 'n-admin-bad-2'" in text and "field 'text'" in text
    assert (rights.export_document(ADMIN, store), store.data_version()) == before
    assert store.get("associations", "a-admin-good") is None


@pytest.mark.parametrize("content,words", [
    (b"", "Choose an exchange file"),
    (b"not json at all", "malformed JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps(new_document(region="atlantis")).encode(), "field 'region'"),
])
def test_import_of_a_bad_file_is_422_with_one_line(admin, store, content, words):
    before = store.data_version()
    response = upload(admin, content)
    assert response.status_code == 422 and words in text_of(response.text)
    assert store.data_version() == before


def test_import_without_a_file_field_is_422(admin):
    token = csrf_of(admin.get("/admin/data").text)
    response = admin.post("/admin/data/import", data={CSRF_FIELD: token},
                          files={"other": ("x.txt", b"x")})
    assert response.status_code == 422


def test_import_over_the_cap_is_413_and_writes_nothing(app, admin, store):
    app.state.limits = Limits(by_path={"/api/v1/import": 1000,
                                       "/admin/data/import": 1000 + 64 * 1024})
    try:
        document = json.dumps(new_document(id="a-too-big")).encode()
        response = upload(admin, document + b" " * 2000)
        assert response.status_code == 413 and "too large" in response.text
        assert store.get("associations", "a-too-big") is None
        assert upload(admin, document).status_code == 200  # under the cap it imports
    finally:
        app.state.limits = Limits()


def test_export_downloads_the_whole_store_as_an_attachment(admin, store):
    response = admin.get("/admin/data/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="delve-matcher-')
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document == rights.export_document(ADMIN, store)
    assert len(document["partners"]) >= 20 and len(document["associations"]) >= 23


def test_export_then_import_changes_nothing(admin, store):
    exported = admin.get("/admin/data/export").content
    version = store.data_version()
    response = upload(admin, exported)
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Nothing changed" in text
    counts = store.export_exchange()
    assert f"Offerings 0 0 {sum(len(p.offerings) for p in counts.partners)}" in text
    assert store.data_version() == version
    assert admin.get("/admin/data/export").content == exported


# ---------------------------------------------------------------------- pages in French
def test_admin_pages_speak_the_chosen_language(admin):
    page = admin.get("/admin/users")
    admin.post("/language", data={CSRF_FIELD: csrf_of(page.text), "lang": "pt"})
    users = text_of(admin.get("/admin/users").text)
    assert "Usuários e tokens" in users
    assert "Pontuadores" in text_of(admin.get("/admin/plugins").text)
    errors = post(admin, "/admin/users/new", user_form(username="x"))
    assert errors.status_code == 422 and "nome de usuário" in text_of(errors.text).lower()


# ---------------------------------------------------------------------- the shared check
@pytest.fixture
def scope_store(demo_copy):
    s = Store(demo_copy)
    yield s
    s.close()


def test_check_scope_accepts_each_role_with_its_own_scope(scope_store, ref):
    regions = ref.regions
    assert check_scope(scope_store, regions, "admin").as_kwargs() == {
        "association_id": None, "partner_id": None, "regions": []}
    assert check_scope(scope_store, regions, "association",
                       association="demo-a-01").association_id == "demo-a-01"
    assert check_scope(scope_store, regions, Role.PARTNER, partner="demo-p-01").partner_id \
        == "demo-p-01"
    assert check_scope(scope_store, regions, "coordinator",
                       regions=["southeast_asia_pacific", "africa_anglophone",
                                "africa_anglophone"]).regions == [
        "africa_anglophone", "southeast_asia_pacific"]


@pytest.mark.parametrize("role,scope,code,field", [
    ("king", {}, "role", "role"),
    ("admin", {"regions": ["africa_anglophone"]}, "extra", "regions"),
    ("association", {}, "missing", "association"),
    ("partner", {"partner": "nope"}, "unknown_partner", "partner"),
    ("coordinator", {"regions": ["atlantis"]}, "unknown_region", "regions"),
])
def test_check_scope_names_the_rule_and_the_field(scope_store, ref, role, scope, code, field):
    with pytest.raises(BadScope) as caught:
        check_scope(scope_store, ref.regions, role, **scope)
    assert caught.value.code == code and caught.value.field == field


def test_cli_token_create_uses_the_same_check(demo_copy):
    runner = CliRunner()
    bad = runner.invoke(cli_app, ["token", "create", "--role", "partner", "--association",
                                  "demo-a-01", "--db", str(demo_copy)])
    assert bad.exit_code == 1 and "--association does not apply to role partner" in bad.output
    missing = runner.invoke(cli_app, ["token", "create", "--role", "coordinator",
                                      "--db", str(demo_copy)])
    assert missing.exit_code == 1 and "role coordinator needs --region" in missing.output
    good = runner.invoke(cli_app, ["token", "create", "--role", "coordinator", "--region",
                                   "africa_anglophone", "--label", "cli", "--db",
                                   str(demo_copy)])
    assert good.exit_code == 0, good.output
    token = good.output.strip().splitlines()[-1]
    store = Store(demo_copy)
    try:
        assert store.principal_for(token).regions == frozenset({"africa_anglophone"})
    finally:
        store.close()
    long_label = runner.invoke(cli_app, ["token", "create", "--role", "admin", "--label",
                                         "x" * 201, "--db", str(demo_copy)])
    assert long_label.exit_code == 1 and "at most 200 characters" in long_label.output
    listing = runner.invoke(cli_app, ["token", "list", "--db", str(demo_copy)])
    assert "africa_anglophone" in listing.output and token not in listing.output


# ---------------------------------------------------------------------- search, edit, pages
def test_admin_finds_users_by_part_of_their_name(admin, store):
    create_user(store, "Findable.Person", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    def listed(q: str) -> list[str]:
        html = admin.get("/admin/users", params={"q": q}).text
        users = html.split('id="users-title"')[1].split('id="tokens-title"')[0]
        return re.findall(r"<h3>([^<]+)</h3>", users)

    assert listed("DABLE.p") == ["findable.person"]
    assert "Users whose name contains" in text_of(admin.get("/admin/users",
                                                            params={"q": "able"}).text)
    assert listed("%_") == []  # typed as text, not as a pattern
    assert "root-admin" in listed("")


def test_admin_re_enables_a_disabled_user(admin, client, app, store):
    create_user(store, "coming-back", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    user = [u for u in store.users() if u["username"] == "coming-back"][0]
    store.disable_user("coming-back")
    page = admin.get(f"/admin/users/{user['id']}/edit")
    assert "Let them sign in again" in text_of(page.text)

    response = post(admin, f"/admin/users/{user['id']}/enable", {})
    assert response.status_code == 303
    assert "User coming-back can sign in again." in text_of(
        admin.get(response.headers["location"]).text)
    assert not store.users(user["id"])[0]["disabled_at"]
    assert sign_in(TestClient(app), "coming-back").status_code == 303
    again = post(admin, f"/admin/users/{user['id']}/enable", {})
    assert again.status_code == 409


def test_admin_resets_a_password_and_the_old_one_stops_working(admin, app, store):
    create_user(store, "forgetful", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    user = [u for u in store.users() if u["username"] == "forgetful"][0]
    member = TestClient(app)
    sign_in(member, "forgetful")

    short = post(admin, f"/admin/users/{user['id']}/password",
                 {"password": "short", "password2": "short"})
    assert short.status_code == 422 and "short" not in short.text.replace(
        "password", "").replace("Short", "")
    differ = post(admin, f"/admin/users/{user['id']}/password",
                  {"password": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 422
    assert sign_in(TestClient(app), "forgetful").status_code == 303  # nothing changed yet

    done = post(admin, f"/admin/users/{user['id']}/password",
                {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 303
    assert member.get("/needs", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(TestClient(app), "forgetful").status_code == 401
    assert sign_in(TestClient(app), "forgetful", NEW_PASSWORD).status_code == 303


def test_admin_changes_a_users_role_and_scope_but_not_their_own(admin, app, store):
    create_user(store, "moving-on", PASSWORD, Role.ASSOCIATION, association_id="demo-a-01")
    user = [u for u in store.users() if u["username"] == "moving-on"][0]

    bad = post(admin, f"/admin/users/{user['id']}/edit", {"role": "coordinator"})
    assert bad.status_code == 422 and "A coordinator needs at least one region." in bad.text
    done = post(admin, f"/admin/users/{user['id']}/edit",
                {"role": "coordinator", "region-africa_anglophone": "1"})
    assert done.status_code == 303
    changed = store.users(user["id"])[0]
    assert (changed["role"], changed["association_id"], changed["regions"]) == (
        "coordinator", None, ["africa_anglophone"])
    member = TestClient(app)
    assert sign_in(member, "moving-on").headers["location"] == "/review"

    me = [u for u in store.users() if u["username"] == "root-admin"][0]
    assert "You cannot change your own role." in text_of(
        admin.get(f"/admin/users/{me['id']}/edit").text)
    refused = post(admin, f"/admin/users/{me['id']}/edit", {"role": "partner",
                                                           "partner": "demo-p-01"})
    assert refused.status_code == 409 and store.users(me["id"])[0]["role"] == "admin"


def test_users_and_tokens_come_in_pages(admin, store):
    for n in range(30):
        store.create_token(Role.PARTNER, partner_id="demo-p-01", label=f"paged token {n}")
    first = text_of(admin.get("/admin/users").text)
    assert "paged token 29" in first and "Page 1 of" in first
    second = admin.get("/admin/users", params={"tokens": "2"})
    assert "paged token 29" not in text_of(second.text)
    assert "first token" in text_of(admin.get("/admin/users", params={"tokens": "9"}).text) \
        or "first token" in text_of(second.text)
    for junk in ("0", "-1", "x", "9" * 20):
        assert admin.get("/admin/users", params={"tokens": junk, "page": junk}).status_code \
            == 200
