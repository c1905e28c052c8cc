"""Concurrent writers get the truth, on a real server: ten clients create needs with one
association token while readers ask for suggestions and lists. Every response is 2xx or 4xx,
every ``201`` is persisted exactly once, nothing is persisted without its ``201``; a retry with
the same ``Idempotency-Key`` returns the same record and writes nothing more.

A real uvicorn server on loopback over a copy of the demo database (a SQLite file, then a
PostgreSQL database), the real model.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from postgres import demo_target
from servers import serve
from support import make_tokens

from matcher.principals import Role
from matcher.store import Store

A = "demo-a-01"
NEEDS_URL = f"/api/v1/associations/{A}/needs"
WRITERS, WRITES_EACH, READERS = 10, 10, 4
TEXTS = ("Our pit walls collapse in the rainy season; we need shoring advice",
         "We need a buyer who pays a fair price for our gold",
         "Members lack protective equipment against mercury vapour")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def writes_db(request, demo_db, tmp_path_factory) -> str:
    """This module's database with the demo data, on each backend."""
    return demo_target(request, demo_db, tmp_path_factory.mktemp("writes"))


@pytest.fixture(scope="module")
def headers(writes_db) -> dict[str, dict[str, str]]:
    return make_tokens(writes_db, {"association": (Role.ASSOCIATION, {"association_id": A}),
                                   "admin": (Role.ADMIN, {})})


@pytest.fixture(scope="module")
def server(writes_db):
    with serve(writes_db) as url:
        yield url


def persisted(db: str, marker: str) -> list[str]:
    """Ids of the needs whose text carries ``marker`` (one row per need, duplicates kept;
    ``marker`` holds no LIKE wildcard)."""
    store = Store(db)
    try:
        return [r["id"] for r in store.db.rows("select id from needs where text like :pattern",
                                               {"pattern": f"%{marker}%"})]
    finally:
        store.close()


def test_concurrent_creates_are_each_persisted_once_with_their_201(server, writes_db, headers):
    marker = f"batch-{uuid.uuid4().hex[:8]}"
    created: list[str] = []
    statuses: list[tuple[str, int]] = []
    failures: list[str] = []
    done = threading.Event()
    start = threading.Barrier(WRITERS + READERS)

    def writer(w: int) -> None:
        with httpx.Client(base_url=server, timeout=120, headers=headers["association"]) as c:
            start.wait()
            for i in range(WRITES_EACH):
                text = f"{TEXTS[(w + i) % len(TEXTS)]} ({marker} w{w} i{i})."
                try:
                    r = c.post(NEEDS_URL, json={"text": text})
                except httpx.HTTPError as exc:
                    failures.append(f"writer {w}: {exc!r}")
                    return
                statuses.append(("POST needs", r.status_code))
                if r.status_code == 201:
                    created.append(r.json()["id"])

    def reader(k: int) -> None:
        with httpx.Client(base_url=server, timeout=120, headers=headers["admin"]) as c:
            start.wait()
            while not done.is_set():
                fresh = created[-1:] or ["demo-n-001"]
                for url in (f"/api/v1/needs/{fresh[0]}/suggestions",
                            f"/api/v1/associations/{A}/suggestions?kind=peer",
                            f"/api/v1/needs?association_id={A}&limit=5", "/health"):
                    try:
                        r = c.get(url)
                    except httpx.HTTPError as exc:
                        failures.append(f"reader {k}: {exc!r}")
                        return
                    statuses.append((url, r.status_code))

    with ThreadPoolExecutor(WRITERS + READERS) as pool:
        readers = [pool.submit(reader, k) for k in range(READERS)]
        writers = [pool.submit(writer, w) for w in range(WRITERS)]
        for f in writers:
            f.result()
        done.set()
        for f in readers:
            f.result()

    assert failures == []
    assert [s for s in statuses if s[1] >= 500] == []
    assert sum(1 for s in statuses if s[0] == "POST needs") == WRITERS * WRITES_EACH
    rows = persisted(writes_db, marker)
    assert len(rows) == len(set(rows)) == len(created)
    assert set(rows) == set(created)
    assert len(created) == WRITERS * WRITES_EACH


def test_a_retry_with_the_same_idempotency_key_returns_the_same_need(server, writes_db,
                                                                     headers):
    marker = f"retry-{uuid.uuid4().hex[:8]}"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"text": f"{TEXTS[0]} ({marker})."}
    with httpx.Client(base_url=server, timeout=120, headers=headers["association"]) as c:
        first = c.post(NEEDS_URL, json=body, headers=key)
        again = c.post(NEEDS_URL, json=body, headers=key)
        other = c.post(NEEDS_URL, json={"text": f"{TEXTS[1]} ({marker})."}, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 409  # the key is bound to another request
    assert "Idempotency-Key" in other.json()["detail"]
    assert persisted(writes_db, marker) == [first.json()["id"]]


def test_racing_retries_with_one_idempotency_key_write_one_need(server, writes_db, headers):
    marker = f"race-{uuid.uuid4().hex[:8]}"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"text": f"{TEXTS[2]} ({marker})."}
    start = threading.Barrier(6)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=120, headers=headers["association"]) as c:
            start.wait()
            return c.post(NEEDS_URL, json=body, headers=key)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(post, range(6)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert persisted(writes_db, marker) == [responses[0].json()["id"]]


def test_the_same_idempotency_key_of_another_caller_is_its_own(server, writes_db, headers):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    marker = f"own-{uuid.uuid4().hex[:8]}"
    body = {"text": f"{TEXTS[1]} ({marker})."}
    with httpx.Client(base_url=server, timeout=120) as c:
        mine = c.post(NEEDS_URL, json=body, headers={**key, **headers["association"]})
        theirs = c.post(NEEDS_URL, json=body, headers={**key, **headers["admin"]})

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert sorted(persisted(writes_db, marker)) == sorted([mine.json()["id"],
                                                           theirs.json()["id"]])
