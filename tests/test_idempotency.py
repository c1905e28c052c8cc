"""``Idempotency-Key`` on every create: a retry with the same key and request returns the same
status and record and writes nothing more; the same key with another request is a 409; the
OpenAPI schema documents the header on every create.

A module copy of the demo database (a SQLite file, then a PostgreSQL database), the real
model and TestClient.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from postgres import demo_target
from support import api_client, make_token

from matcher.principals import Role
from matcher.store import Store
from matcher.store.idempotency import KEEP_DAYS

V1 = "/api/v1"
A, P = "demo-a-01", "demo-p-01"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request, demo_db, tmp_path_factory) -> str:
    """This module's database with the demo data, on each backend."""
    return demo_target(request, demo_db, tmp_path_factory.mktemp("idempotency"))


@pytest.fixture(scope="module")
def http(db):
    with api_client(db, headers=make_token(db, Role.ADMIN)) as client:
        yield client


def _count(db: str, table: str) -> int:
    store = Store(db)
    try:
        return store.db.value(f'select count(*) from "{table}"')
    finally:
        store.close()


def _match_body(http) -> dict:
    suggestions = http.get(f"{V1}/needs/demo-n-002/suggestions").json()["suggestions"]
    return {"need_id": "demo-n-002", "kind": "partner", "item_id": suggestions[0]["offering_id"]}


CREATES = {
    "needs": (f"{V1}/associations/{A}/needs",
              lambda tag, http: {"text": f"We need shoring advice for our pit walls ({tag})."}),
    "practices": (f"{V1}/associations/{A}/practices",
                  lambda tag, http: {"text": f"We run a savings group for members ({tag})."}),
    "offerings": (f"{V1}/partners/{P}/offerings",
                  lambda tag, http: {"title": f"Pit safety course {tag}", "category": "ohs"}),
    "associations": (f"{V1}/associations",
                     lambda tag, http: {"name": f"Cooperative {tag}", "country": "GH"}),
    "partners": (f"{V1}/partners", lambda tag, http: {"name": f"Partner {tag}"}),
    "matches": (f"{V1}/matches", lambda tag, http: _match_body(http)),
}


@pytest.mark.parametrize("table", list(CREATES))
def test_a_retry_with_the_same_key_returns_the_same_record_once(http, db, table):
    url, body_for = CREATES[table]
    body = body_for(uuid.uuid4().hex[:8], http)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    before = _count(db, table)

    first = http.post(url, json=body, headers=key)
    again = http.post(url, json=body, headers=key)

    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    assert _count(db, table) == before + 1


@pytest.mark.parametrize("table", ["needs", "associations", "partners"])
def test_the_same_key_with_another_request_is_refused(http, db, table):
    url, body_for = CREATES[table]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    assert http.post(url, json=body_for("one", http), headers=key).status_code == 201
    before = _count(db, table)

    other = http.post(url, json=body_for("two", http), headers=key)

    assert other.status_code == 409  # the key is bound to another request
    assert "Idempotency-Key" in other.json()["detail"]
    assert _count(db, table) == before


def test_creates_without_a_key_are_not_deduplicated(http, db):
    url, body_for = CREATES["needs"]
    body = body_for("twice", http)
    before = _count(db, "needs")

    ids = {http.post(url, json=body).json()["id"] for _ in range(2)}

    assert len(ids) == 2 and _count(db, "needs") == before + 2


def test_every_create_documents_the_idempotency_key_header(http):
    schema = http.get("/openapi.json").json()
    creates = {path: op for path, item in schema["paths"].items()
               for method, op in item.items() if method == "post" and "201" in op["responses"]}

    assert len(creates) >= len(CREATES)
    for path, op in creates.items():
        headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        assert "idempotency-key" in headers, path


def _age_keys(db: str, days: float) -> None:
    """Make every stored key ``days`` days older."""
    store = Store(db)
    try:
        with store.writing():
            for owner, key, made in store.db.execute(
                    "select owner, key, created_at from idempotency").fetchall():
                older = (datetime.fromisoformat(made) - timedelta(days=days)).isoformat(
                    timespec="seconds")
                store.db.execute("update idempotency set created_at = :at where owner = "
                                 ":owner and key = :key", {"at": older, "owner": owner,
                                                           "key": key})
    finally:
        store.close()


def test_a_key_is_kept_for_its_days_then_forgotten_and_removed(http, db):
    url, body = CREATES["needs"]
    key = str(uuid.uuid4())
    first = http.post(url, json=body("kept", http), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text

    _age_keys(db, KEEP_DAYS - 1)  # still within its days: the retry returns the same need
    retry = http.post(url, json=body("kept", http), headers={"Idempotency-Key": key})
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]

    _age_keys(db, 2)  # past them: forgotten, so the same key makes a new need
    needs = _count(db, "needs")
    again = http.post(url, json=body("kept", http), headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
    assert _count(db, "needs") == needs + 1

    # that create removed every expired key: only keys younger than KEEP_DAYS are left
    store = Store(db)
    try:
        made = [row[0] for row in store.db.execute("select created_at from idempotency")]
    finally:
        store.close()
    cutoff = datetime.now(UTC) - timedelta(days=KEEP_DAYS)
    assert made and all(datetime.fromisoformat(at) > cutoff for at in made)
