"""An interrupted import heals: a kill after the import's commit leaves texts without vectors;
the server embeds them in the background at start-up, says so in ``/health`` meanwhile
(``starting``, then ``ok`` with nothing missing), and never answers a suggestion with a 500.

A real uvicorn server on loopback over a copy of the demo database, the real model; the
background embedding is held at a gate until the test has seen the server half-embedded.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
from servers import serve
from support import make_token

from matcher.exchange import Need
from matcher.principals import Role
from matcher.ranking.embeddings import content_hash
from matcher.ranking.engine import Engine
from matcher.ranking.heal import EmbeddingStatus
from matcher.settings import load_settings

A = "demo-a-01"


def drop_vectors(db, need_ids: list[str], offerings_share: float = 0.0) -> int:
    """Delete the vectors (every embedder's) of these needs' texts and of the first
    ``offerings_share`` of the offerings' texts, as a kill between an import's commit and its
    embedding leaves them; return how many were deleted."""
    conn = sqlite3.connect(db)
    try:
        texts = [r[0] for r in conn.execute(
            f"select text from needs where id in ({','.join('?' * len(need_ids))})", need_ids)]
        offerings = conn.execute("select title, description from offerings order by id")
        rows = offerings.fetchall()
        texts += [f"{t}. {d}".strip() for t, d in rows[:int(len(rows) * offerings_share)]]
        hashes = [content_hash(t) for t in texts]
        with conn:
            cursor = conn.execute(
                f"delete from vectors where content_hash in ({','.join('?' * len(hashes))})",
                hashes)
        return cursor.rowcount
    finally:
        conn.close()


@pytest.fixture
def gate(monkeypatch) -> threading.Event:
    """Background embedding waits until the event is set."""
    opened = threading.Event()
    sync = Engine.sync_embeddings

    def gated(self, *args, **kwargs):
        if not self.embed_on_build:
            assert opened.wait(120), "the test never opened the gate"
        return sync(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "sync_embeddings", gated)
    return opened


def test_the_server_embeds_what_an_interrupted_import_left_out(demo_copy, gate):
    conn = sqlite3.connect(demo_copy)
    needs = [r[0] for r in conn.execute(
        "select id from needs where association_id = ? order by id", [A])]
    conn.close()
    broken, intact = needs[0], needs[-1]
    dropped = drop_vectors(demo_copy, [broken], offerings_share=0.5)
    assert dropped > 20
    bearer = make_token(demo_copy, Role.ADMIN)

    with serve(demo_copy, warm=False) as url, httpx.Client(base_url=url, timeout=120,
                                               headers=bearer) as http:
        health = http.get("/health").json()
        waiting = http.get(f"/api/v1/needs/{broken}/suggestions")
        served = http.get(f"/api/v1/needs/{intact}/suggestions")
        whole = http.get(f"/api/v1/associations/{A}/suggestions")
        during = http.get("/health").json()
        gate.set()
        deadline = time.monotonic() + 120
        while (after := http.get("/health").json())["status"] != "ok":
            assert time.monotonic() < deadline, after
            time.sleep(0.2)
        healed = http.get(f"/api/v1/needs/{broken}/suggestions")

    assert health["status"] == "starting"  # not counted yet (null) until the corpus says
    assert health["embedding"] in (None, {"missing": dropped, "in_progress": True})
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"]
    assert served.status_code == whole.status_code == 200
    assert during["status"] == "starting"
    assert during["embedding"] == {"missing": dropped, "in_progress": True}
    assert after["embedding"] == {"missing": 0, "in_progress": False}
    assert healed.status_code == 200 and healed.json()["suggestions"]


def test_health_says_degraded_while_nothing_can_embed_the_missing_texts(demo_copy,
                                                                       monkeypatch):
    dropped = drop_vectors(demo_copy, ["demo-n-001"])

    def broken(self, *args, **kwargs):
        raise RuntimeError("the model is unavailable")

    monkeypatch.setattr(Engine, "sync_embeddings", broken)
    bearer = make_token(demo_copy, Role.ADMIN)
    with serve(demo_copy, warm=False) as url, httpx.Client(base_url=url, timeout=120,
                                               headers=bearer) as http:
        deadline = time.monotonic() + 30
        while (health := http.get("/health").json())["status"] == "starting":
            assert time.monotonic() < deadline, health
            time.sleep(0.1)
        waiting = http.get("/api/v1/needs/demo-n-001/suggestions")
        whole = http.get(f"/api/v1/associations/{A}/suggestions")

    assert health["status"] == "degraded"
    assert health["embedding"] == {"missing": dropped, "in_progress": False}
    assert waiting.status_code == 503
    assert whole.status_code == 200


def test_a_corpus_leaves_out_records_without_vectors_instead_of_failing(demo_copy):
    dropped = drop_vectors(demo_copy, ["demo-n-001"])
    engine = Engine(load_settings(db=demo_copy), embed_on_build=False)
    engine.healer.stop()  # nothing embeds them meanwhile
    try:
        status = engine.embedding_status()
        corpus = engine.corpus()
    finally:
        engine.store.close()

    assert status == EmbeddingStatus(missing=dropped, in_progress=False)
    assert "demo-n-001" not in corpus.needs and corpus.extra["left_out"] == 1
    assert len(corpus.needs) > 0


def test_vectors_embedded_by_another_process_reach_the_served_corpus(demo_copy):
    dropped = drop_vectors(demo_copy, ["demo-n-001"])
    served = Engine(load_settings(db=demo_copy), embed_on_build=False)
    served.healer.stop()  # only the other process embeds
    try:
        before = served.corpus()
        other = Engine(load_settings(db=demo_copy))  # e.g. `matcher embed` meanwhile
        embedded = other.sync_embeddings()
        other.store.close()
        after = served.corpus()
        status = served.embedding_status()
    finally:
        served.store.close()

    assert "demo-n-001" not in before.needs and embedded == dropped
    assert "demo-n-001" in after.needs and after.extra["left_out"] == 0
    assert status == EmbeddingStatus(missing=0, in_progress=False)


def test_health_after_writes_looks_only_at_the_records_written(demo_copy, monkeypatch):
    dropped = drop_vectors(demo_copy, ["demo-n-001"])
    engine = Engine(load_settings(db=demo_copy), embed_on_build=False)
    engine.healer.stop()  # nothing embeds meanwhile
    embedders = len(engine.embedders)
    try:
        first = engine.embedding_status()  # the first count looks at every text
        monkeypatch.setattr(engine.vectors, "_records", lambda: pytest.fail(
            "every record was read again after a write"))
        # a need rewritten without its new text's vectors, and a need with none removed
        row = engine.store.get("needs", "demo-n-002")
        engine.store.update_record("needs", Need(id=row["id"], text=row["text"] + " (revised)",
                                                 category=row["category"]))
        rewritten = engine.embedding_status()
        engine.store.delete_record("needs", "demo-n-001")
        removed = engine.embedding_status()
        other = Engine(load_settings(db=demo_copy))  # e.g. `matcher embed` meanwhile
        other.sync_embeddings()
        other.store.close()
        healed = engine.embedding_status()
    finally:
        engine.store.close()

    assert first.missing == dropped == embedders
    assert rewritten.missing == dropped + embedders
    assert removed.missing == embedders
    assert healed == EmbeddingStatus(missing=0, in_progress=False)


def test_health_counts_again_from_every_text_when_vectors_vanish(demo_copy):
    engine = Engine(load_settings(db=demo_copy), embed_on_build=False)
    engine.healer.stop()
    try:
        before = engine.embedding_status()
        dropped = drop_vectors(demo_copy, ["demo-n-003"])  # behind the change log's back
        after = engine.embedding_status()
    finally:
        engine.store.close()

    assert before.missing == 0 and after.missing == dropped > 0


def test_the_first_count_after_the_corpus_loads_reads_no_other_text(demo_copy, monkeypatch):
    dropped = drop_vectors(demo_copy, ["demo-n-001"], offerings_share=0.2)
    engine = Engine(load_settings(db=demo_copy), embed_on_build=False)
    engine.healer.stop()  # nothing embeds meanwhile
    try:
        before = engine.embedding_status(count=False)  # a server starting: not counted yet
        engine.warm_up()
        monkeypatch.setattr(engine.vectors, "_records", lambda: pytest.fail(
            "every text was read although the corpus said which lack vectors"))
        told = engine.embedding_status(count=False)
    finally:
        engine.store.close()

    assert before is None
    assert told == EmbeddingStatus(missing=dropped, in_progress=False)
