"""Helpers for the page tests through TestClient: a demo database with web users, the fixtures
every page test module uses, signing in, posting forms, and reading forms and text out of HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import copy_database

from api.app import create_app
from api.pages.session import CSRF_FIELD
from api.throttle import reset_failures
from matcher.accounts.users import create_user
from matcher.principals import Role
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from matcher.store import Store

PASSWORD = "pages-test-password"


def database_with_users(demo_db: Path, folder: Path, users: dict[str, tuple[Role, dict]],
                        password: str = PASSWORD) -> Path:
    """A private copy of the demo database with web ``users`` (username: (role, scope))."""
    target = copy_database(demo_db, folder)
    store = Store(target)
    try:
        for username, (role, scope) in users.items():
            create_user(store, username, password, role, **scope)
    finally:
        store.close()
    return target


def page_fixtures(users: dict[str, tuple[Role, dict]],
                  prepare: Callable[[Path], None] | None = None) -> tuple:
    """The fixtures of a page test module, to bind at its top level under their names::

        pages_db, app, module_client, client, engine = page_fixtures(USERS)

    ``pages_db``: the module's copy of the demo database with web ``users``, then ``prepare``d;
    ``app`` over it; ``module_client``: one TestClient for the module (its lifespan runs once, the
    engine stays loaded); ``client``: that client for one test, with an empty cookie jar (a new
    visitor) and no sign-in failures on record; ``engine``: the app's own engine (the one its
    pages use: reads see the pages' writes at once)."""

    @pytest.fixture(scope="module", name="pages_db")
    def pages_db_fixture(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
        target = database_with_users(demo_db, tmp_path_factory.mktemp("pages"), users)
        if prepare is not None:
            prepare(target)
        return target

    @pytest.fixture(scope="module", name="app")
    def app_fixture(pages_db: Path):
        return create_app(load_settings(db=pages_db))

    @pytest.fixture(scope="module", name="module_client")
    def module_client_fixture(app):
        with TestClient(app) as test_client:
            yield test_client

    @pytest.fixture(name="client")
    def client_fixture(module_client: TestClient):
        module_client.cookies.clear()
        reset_failures()
        yield module_client
        module_client.cookies.clear()
        reset_failures()

    @pytest.fixture(scope="module", name="engine")
    def engine_fixture(app, module_client: TestClient) -> Engine:
        return app.state.engines.get()

    return (pages_db_fixture, app_fixture, module_client_fixture, client_fixture,
            engine_fixture)


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def post(client: TestClient, path: str, data: dict, page: str = "/signin", **kwargs):
    """Post ``data`` as a form to ``path``, as a browser would from ``page``: with the session's
    CSRF token read from it; redirects are not followed."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={CSRF_FIELD: token, **data}, follow_redirects=False,
                       **kwargs)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = ""):
    page = client.get("/signin")
    return client.post("/signin/password", data={
        CSRF_FIELD: csrf_of(page.text), "username": username, "password": password,
        "next": next_path}, follow_redirects=False)


def sign_in_with_token(client: TestClient, token: str):
    page = client.get("/signin")
    return client.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text), "token": token},
                       follow_redirects=False)
