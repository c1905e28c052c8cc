"""Helpers for the page tests through TestClient: a demo database with web users, signing in,
and reading forms and text out of HTML."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient

from api.pages.session import CSRF_FIELD
from matcher.auth import Role
from matcher.store import Store

PASSWORD = "pages-test-password"


def database_with_users(demo_db: Path, folder: Path, users: dict[str, tuple[Role, dict]],
                        password: str = PASSWORD) -> Path:
    """A private copy of the demo database with web ``users`` (username: (role, scope))."""
    target = folder / "demo.db"
    shutil.copyfile(demo_db, target)
    store = Store(target)
    try:
        for username, (role, scope) in users.items():
            store.create_user(username, password, role, **scope)
    finally:
        store.close()
    return target


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_path: str = ""):
    page = client.get("/signin")
    return client.post("/signin/password", data={
        CSRF_FIELD: csrf_of(page.text), "username": username, "password": password,
        "next": next_path}, follow_redirects=False)


def sign_in_with_token(client: TestClient, token: str):
    page = client.get("/signin")
    return client.post("/signin/token", data={CSRF_FIELD: csrf_of(page.text), "token": token},
                       follow_redirects=False)
