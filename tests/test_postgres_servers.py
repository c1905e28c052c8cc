"""Several `matcher serve` processes over one PostgreSQL database: two coordinators racing on
one match through different servers (exactly one wins, one audit row), a need added through one
server suggested through the other, and a server SIGKILLed inside an import's transaction (the
database holds the old data or the new, and the other server keeps answering).

Real servers (child processes), a real cluster (tests/postgres.py; skipped without
PostgreSQL), the demo data copied in with ``matcher migrate-store``'s code.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time

import httpx
import pytest
from postgres import demo_target
from servers import race, serve_process, worker_pids
from support import REVIEW_REGION, REVIEWER_SCOPES, REVIEWERS, make_tokens

from matcher.reference import default_data_dir
from matcher.store import Store
from matcher.store.dialect import WRITER_LOCK

DEMO = json.loads((default_data_dir() / "demo.json").read_text("utf-8"))
REGION = REVIEW_REGION
REGION_NEEDS = [n["id"] for a in DEMO["associations"] if a.get("region") == REGION
                for n in a["needs"]]
URL = "/api/v1/matches"
TARGET = {"approve": "approved", "reject": "rejected"}
COPIES = 80  # the killed import's size: its transaction lasts long enough to be seen writing
SCOPES = REVIEWER_SCOPES


@pytest.fixture(scope="module", params=["postgresql"])
def shared(request, demo_db, tmp_path_factory) -> str:
    """One PostgreSQL database with the demo data, for every server of the module."""
    return demo_target(request, demo_db, tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def tokens(shared) -> dict[str, dict[str, str]]:
    return make_tokens(shared, REVIEWERS)


@pytest.fixture(scope="module")
def two_servers(shared, tmp_path_factory):
    """Two `matcher serve` processes over ``shared``, each with its own state folder."""
    with serve_process(shared, env={"MATCHER_STATE_DIR": str(tmp_path_factory.mktemp("a"))}
                       ) as (a, _), \
         serve_process(shared, env={"MATCHER_STATE_DIR": str(tmp_path_factory.mktemp("b"))}
                       ) as (b, _):
        yield a, b


def fresh_pairs(base: str, headers: dict, count: int) -> list[tuple[str, str]]:
    """``count`` (need, offering) pairs of the region whose offerings no match holds yet."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        taken = {m["item_id"] for m in http.get(URL, params={"limit": 100}).json()["items"]}
        pairs = []
        for need in REGION_NEEDS:
            suggestions = http.get(f"/api/v1/needs/{need}/suggestions",
                                   params={"limit": 50}).json()["suggestions"]
            fresh = next((s["offering_id"] for s in suggestions
                          if s["offering_id"] not in taken), None)
            if fresh is not None:
                pairs.append((need, fresh))
                taken.add(fresh)
            if len(pairs) == count:
                return pairs
    raise AssertionError(f"only {len(pairs)} fresh pairs in {REGION}")


def test_two_coordinators_racing_through_two_servers_exactly_one_wins(two_servers, tokens):
    a, b = two_servers
    rounds = [("approve", "reject"), ("approve", "approve"), ("reject", "reject"),
              ("reject", "approve")]
    for (need, item), (first, second) in zip(fresh_pairs(a, tokens["admin"], len(rounds)),
                                             rounds):
        created = httpx.post(f"{a}{URL}", headers=tokens["admin"], timeout=60,
                             json={"need_id": need, "kind": "partner", "item_id": item})
        assert created.status_code == 201, created.text
        match_id = created.json()["id"]
        bodies = {"approve": {"note": "raced"}, "reject": {"reason": "duplicate"}}
        responses = race([
            (a, tokens["alice"], f"{URL}/{match_id}/{first}", bodies[first]),
            (b, tokens["bob"], f"{URL}/{match_id}/{second}", bodies[second]),
        ])
        assert sorted(r.status_code for r in responses) == [200, 409], \
            [r.text for r in responses]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        won = TARGET[(first, second)[winner]]
        for base in (a, b):  # both servers tell the same story
            final = httpx.get(f"{base}{URL}/{match_id}", headers=tokens["admin"]).json()
            trail = httpx.get(f"{base}{URL}/{match_id}/audit",
                              headers=tokens["admin"]).json()["entries"]
            assert final["status"] == won and final["version"] == 2
            assert [(e["from_status"], e["to_status"]) for e in trail] == \
                [(None, "proposed"), ("proposed", won)]
            assert trail[-1]["actor"].endswith(SCOPES[winner])


def test_a_need_added_through_one_server_is_suggested_through_the_other(two_servers,
                                                                        tokens):
    a, b = two_servers
    association = next(x for x in DEMO["associations"] if x.get("region") == REGION)
    created = httpx.post(
        f"{a}/api/v1/associations/{association['id']}/needs", headers=tokens["admin"],
        timeout=120, json={"category": "finance",
                           "text": "We need a small loan to buy a water pump for the pit."})
    assert created.status_code == 201, created.text
    written, need_id = time.monotonic(), created.json()["id"]
    answer = httpx.get(f"{b}/api/v1/needs/{need_id}/suggestions", headers=tokens["admin"],
                       timeout=120)
    delay = time.monotonic() - written
    assert answer.status_code == 200, answer.text  # the very next request: no polling period
    assert answer.json()["suggestions"]
    assert delay < 60, f"server B answered after {delay:.1f} s"


def _digest(url: str) -> str:
    """The profile tables' content, whoever wrote it."""
    store = Store(url)
    try:
        h = hashlib.sha256()
        for table in ("partners", "offerings", "associations", "needs", "practices"):
            for row in store.db.rows(f'select * from "{table}" order by id'):
                row.pop("rowid", None)
                h.update(repr(sorted(row.items())).encode())
        return h.hexdigest()
    finally:
        store.close()


def _import_writing(watcher: Store) -> bool:
    """Whether a session holds the writers' lock and has written (a transaction id) while
    upserting associations: the import's transaction, open."""
    return bool(watcher.db.value(
        "select count(*) from pg_stat_activity s join pg_locks l on l.pid = s.pid "
        "where l.locktype = 'advisory' and l.granted and l.objid = :key "
        "and s.backend_xid is not null and s.query like '%associations%'",
        {"key": WRITER_LOCK}))


def _copies(copies: int) -> dict:
    """The demo associations ``copies`` times over, with new ids (a large import)."""
    return {"partners": [], "associations": [
        {**x, "id": f"{x['id']}-k{k}",
         "needs": [{**n, "id": f"{n['id']}-k{k}"} for n in x["needs"]],
         "practices": [{**p, "id": f"{p['id']}-k{k}"} for p in x["practices"]]}
        for k in range(copies) for x in DEMO["associations"]]}


def test_a_server_killed_inside_an_import_leaves_old_or_new_data_and_the_other_answers(
        shared, tokens, tmp_path):
    before = _digest(shared)
    body = json.dumps(_copies(COPIES)).encode()
    with serve_process(shared, env={"MATCHER_STATE_DIR": str(tmp_path / "a")}) as (a, proc), \
         serve_process(shared, env={"MATCHER_STATE_DIR": str(tmp_path / "b")}) as (b, _):
        sent = threading.Thread(target=lambda: _post_quietly(f"{a}/api/v1/import", body,
                                                             tokens["admin"]), daemon=True)
        sent.start()
        watcher, deadline = Store(shared), time.monotonic() + 120  # one connection, polling
        try:
            while not _import_writing(watcher):
                assert time.monotonic() < deadline, "the import never began its transaction"
                assert sent.is_alive(), "the import ended before it was seen writing"
                time.sleep(0.002)
        finally:
            watcher.close()
        for pid in (*worker_pids(proc), proc.pid):
            os.kill(pid, signal.SIGKILL)
        sent.join(timeout=60)
        health = httpx.get(f"{b}/health", timeout=30)
        assert health.status_code == 200
        need = REGION_NEEDS[0]
        answer = httpx.get(f"{b}/api/v1/needs/{need}/suggestions", headers=tokens["admin"],
                           timeout=120)
        assert answer.status_code == 200 and answer.json()["suggestions"]
    store = Store(shared)
    try:
        imported = store.db.value("select count(*) from associations where id like '%-k%'")
    finally:
        store.close()
    if imported == 0:
        assert _digest(shared) == before  # the old data, untouched
    else:
        assert imported == COPIES * len(DEMO["associations"]), "part of the import was kept"


def _post_quietly(url: str, body: bytes, headers: dict) -> None:
    try:
        httpx.post(url, content=body, timeout=120,
                   headers={**headers, "Content-Type": "application/json"})
    except httpx.TransportError:
        pass  # the server was killed: no answer is the point
