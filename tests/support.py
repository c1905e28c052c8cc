"""Helpers for the API tests: a copy of a database file, tokens in one and their Authorization
headers, and a TestClient over the app on one. The fixtures built on them are in conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from matcher.principals import Role
from matcher.settings import load_settings
from matcher.store import Store

Headers = dict[str, str]

# Coordinators racing on one region's matches (tests/test_concurrent_review.py, over one
# server; tests/test_postgres_servers.py, over two): alice's scope is the region, bob's the
# region and one more, so the audit's actor tells who won.
REVIEW_REGION = "africa_anglophone"
REVIEWERS: dict[str, tuple[Role, dict]] = {
    "admin": (Role.ADMIN, {}),
    "alice": (Role.COORDINATOR, {"regions": [REVIEW_REGION], "label": "alice"}),
    "bob": (Role.COORDINATOR, {"regions": [REVIEW_REGION, "africa_francophone"],
                               "label": "bob"}),
}
REVIEWER_SCOPES = (f"(coordinator {REVIEW_REGION})",
                   f"(coordinator {REVIEW_REGION},africa_francophone)")


def copy_database(source: Path, folder: Path) -> Path:
    """A copy of the database file ``source`` as ``folder``/demo.db (a module's own copy of the
    demo database: ``copy_database(demo_db, tmp_path_factory.mktemp(name))``)."""
    target = folder / "demo.db"
    shutil.copyfile(source, target)
    return target


def bearer(token: str) -> Headers:
    """The Authorization header that carries ``token``."""
    return {"Authorization": f"Bearer {token}"}


def issue_token(db: Path, role: Role, **scope) -> tuple[int, str]:
    """A new token in ``db`` (``scope``: association_id, partner_id, regions, label): its id
    and the token itself."""
    store = Store(db)
    try:
        return store.create_token(role, **scope)
    finally:
        store.close()


def make_token(db: Path, role: Role, **scope) -> Headers:
    """The headers of a new token in ``db`` (see ``issue_token``)."""
    return bearer(issue_token(db, role, **scope)[1])


def make_tokens(db: Path, specs: dict[str, tuple[Role, dict]], *,
                named: bool = False) -> dict[str, Headers]:
    """Headers per name for new tokens in ``db``, ``specs`` as ``name: (role, scope)``;
    ``named``: each token's label is its name."""
    store = Store(db)
    try:
        headers = {}
        for name, (role, scope) in specs.items():
            label = {"label": name} if named else {}
            headers[name] = bearer(store.create_token(role, **label, **scope)[1])
        return headers
    finally:
        store.close()


def api_client(db: Path, headers: Headers | None = None) -> TestClient:
    """A TestClient over the app on ``db`` (enter it to run the app's lifespan)."""
    return TestClient(create_app(load_settings(db=db)), headers=headers)
