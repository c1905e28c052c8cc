"""Failed-login throttling on a real server: forwarded headers count only from configured
proxies, a guesser gets 429, and a valid token or password is never refused for others' guesses
(one address may be a whole town behind carrier-grade NAT)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_of
from postgres import demo_target
from servers import serve_app

from api import throttle
from api.app import create_app
from api.pages.session import CSRF_FIELD
from matcher.accounts.users import create_user
from matcher.principals import Role
from matcher.settings import load_settings
from matcher.store import Store

API = "/api/v1/plugins"  # any route behind a token
PASSWORD = "throttle-test-password"
BAD_TOKEN = {"Authorization": "Bearer dm_not-a-real-token"}
LIMIT = throttle.FAILURE_LIMIT


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, demo_db: Path, tmp_path: Path) -> str:
    """A private database with the demo data and two admins, on each backend."""
    target = demo_target(request, demo_db, tmp_path)
    store = Store(target)
    try:
        for name in ("amina", "kwame"):
            create_user(store, name, PASSWORD, Role.ADMIN)
    finally:
        store.close()
    return target


@pytest.fixture(autouse=True)
def fresh_failures():
    throttle.reset_failures()
    yield
    throttle.reset_failures()


@contextmanager
def server(db: str, **settings) -> Iterator[httpx.Client]:
    """A real uvicorn server over ``db`` with ``settings``, and an HTTP client for it."""
    with serve_app(create_app(load_settings(db=db, **settings))) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        yield client


def from_(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD,
            headers: dict[str, str] | None = None) -> httpx.Response:
    page = client.get("/signin", headers=headers)
    return client.post("/signin/password", headers=headers, data={
        CSRF_FIELD: csrf_of(page.text), "username": username, "password": password})


# ------------------------------------------------------------------ forwarded headers
def test_rotating_forwarded_for_is_ignored_without_trusted_proxies(db):
    with server(db) as client:
        for i in range(LIMIT):
            assert client.get(API, headers={**BAD_TOKEN, **from_(f"10.0.0.{i}")}
                              ).status_code == 401
        assert client.get(API, headers={**BAD_TOKEN, **from_("10.0.1.1")}).status_code == 429


def test_a_claimed_address_is_not_blamed_without_trusted_proxies(db):
    with server(db) as client:
        for _ in range(LIMIT):
            client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.7")})
        # the failures were the real peer's: it is throttled, the claimed victim is not
        assert client.get(API, headers=BAD_TOKEN).status_code == 429
    assert throttle.failures_of(throttle.address_key("203.0.113.7")) == 0
    assert throttle.failures_of(throttle.address_key("127.0.0.1")) == LIMIT


def test_forwarded_addresses_are_honoured_from_a_trusted_proxy(db):
    with server(db, trusted_proxies=["127.0.0.1"]) as client:
        for _ in range(LIMIT):
            assert client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.7")}
                              ).status_code == 401
        assert client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.7")}).status_code == 429
        # another client behind the same proxy is a different address, not locked out
        assert client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.8")}).status_code == 401


def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(db):
    with server(db, trusted_proxies=["10.1.1.0/24"]) as client:
        for i in range(LIMIT):
            client.get(API, headers={**BAD_TOKEN, **from_(f"203.0.113.{i}")})
        assert client.get(API, headers={**BAD_TOKEN, **from_("198.51.100.1")}).status_code == 429


def test_testclient_sees_forwarded_addresses_like_the_server(db):
    app = create_app(load_settings(db=db, trusted_proxies=["127.0.0.1"]))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        for _ in range(LIMIT):
            client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.7")})
        assert client.get(API, headers={**BAD_TOKEN, **from_("203.0.113.7")}).status_code == 429
        assert client.get(API, headers=BAD_TOKEN).status_code == 401  # the proxy itself


# ------------------------------------------------------------------ valid credentials
def test_a_valid_token_passes_from_a_throttled_address_and_a_bad_one_does_not(db, admin):
    with server(db) as client:
        for _ in range(LIMIT + 5):
            client.get(API, headers=BAD_TOKEN)
        assert client.get(API, headers=BAD_TOKEN).status_code == 429
        assert client.get(API, headers=admin).status_code == 200
        assert client.get(API, headers=BAD_TOKEN).status_code == 429
        assert client.get(API).status_code == 429  # no token: still the guesser's answer


def test_a_right_password_signs_in_from_a_throttled_address(db):
    with server(db) as client:
        for _ in range(LIMIT):
            client.get(API, headers=BAD_TOKEN)
        for i in range(3):  # and wrong passwords against other users, from the same town
            assert sign_in(client, f"user{i}", "wrong-password!").status_code == 429

        signed_in = sign_in(client, "amina")

        assert signed_in.status_code == 303 and signed_in.headers["location"].startswith("/admin")
        assert client.get(API, headers=BAD_TOKEN).status_code == 429


def test_wrong_token_sign_ins_count_and_a_right_one_passes(db, admin):
    with server(db) as client:
        for _ in range(LIMIT):
            client.get(API, headers=BAD_TOKEN)
        page = client.get("/signin")
        wrong = client.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text),
                                                   "token": "dm_wrong"})
        assert wrong.status_code == 429
        right = client.post("/signin/token", data={
            CSRF_FIELD: csrf_of(page.text), "token": admin["Authorization"].split()[1]})
        assert right.status_code == 303


# ------------------------------------------------------------------ one username, many addresses
def test_a_username_under_attack_is_throttled_from_every_address(db):
    with server(db, trusted_proxies=["127.0.0.1"]) as client:
        for i in range(LIMIT):
            assert sign_in(client, "Amina", "wrong-password!",
                           from_(f"198.51.100.{i}")).status_code == 401
        assert sign_in(client, "amina", "wrong-password!",
                       from_("198.51.100.200")).status_code == 429
        # an unknown browser with the right password waits too (it is not checked) ...
        assert sign_in(client, "amina", PASSWORD, from_("198.51.100.201")).status_code == 429
        # ... while other users sign in as usual
        assert sign_in(client, "kwame", PASSWORD, from_("198.51.100.201")).status_code == 303


def test_the_real_user_signs_in_from_her_own_browser_while_under_attack(db):
    with server(db, trusted_proxies=["127.0.0.1"]) as amina, \
            httpx.Client(base_url=str(amina.base_url), timeout=30) as attacker:
        home = from_("192.0.2.10")
        signed_in = sign_in(amina, "amina", PASSWORD, home)
        assert signed_in.status_code == 303
        page = amina.get(signed_in.headers["location"], headers=home)
        amina.post("/signout", data={CSRF_FIELD: csrf_of(page.text)}, headers=home)
        for i in range(LIMIT + 3):
            sign_in(attacker, "amina", "wrong-password!", from_(f"198.51.100.{i}"))
        assert sign_in(attacker, "amina", PASSWORD, from_("198.51.100.99")).status_code == 429

        # her browser carries the device cookie of her last sign-in: her attempts are checked
        assert sign_in(amina, "amina", "mistyped-password", home).status_code == 401
        assert sign_in(amina, "amina", PASSWORD, home).status_code == 303


# ------------------------------------------------------------------ the setting
def test_trusted_proxies_come_from_the_environment_as_a_list_or_json(monkeypatch):
    assert load_settings().trusted_proxies == []
    monkeypatch.setenv("MATCHER_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,::1")
    assert load_settings().trusted_proxies == ["10.0.0.1", "192.168.0.0/16", "::1"]
    monkeypatch.setenv("MATCHER_TRUSTED_PROXIES", '["10.0.0.1"]')
    assert load_settings().trusted_proxies == ["10.0.0.1"]


def test_a_trusted_proxy_that_is_no_address_is_refused(monkeypatch):
    monkeypatch.setenv("MATCHER_TRUSTED_PROXIES", "proxy.example.org")
    with pytest.raises(ValueError, match="proxy.example.org"):
        load_settings()
