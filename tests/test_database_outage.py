"""PostgreSQL going away and coming back: while it is down, the store raises ``Unavailable``
and the service answers 503 with a Retry-After; once it is back, the very next requests are
served again, without a restart.

Before, a lost connection stayed in its thread: after a restart of PostgreSQL (an upgrade,
a failover, a crash) every request answered 500 until the service itself was restarted.

Each test runs its own throwaway cluster (tests/postgres.py; skipped without PostgreSQL),
stopped as a crash would (every session cut) and started again. A SQLite file that another
process keeps locked past the busy timeout is unavailable the same way (it answered 500).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from postgres import NOT_INSTALLED, Cluster, create_database, throwaway_cluster
from servers import serve_app
from support import make_token

from api.app import create_app
from api.pages.session import LANG_COOKIE, SESSION_COOKIE, new_session_id
from matcher.errors import Unavailable
from matcher.principals import Role
from matcher.ranking.heal import Healer
from matcher.services.migrate_store import migrate_store
from matcher.settings import load_settings
from matcher.store import Store

NEED = "demo-n-001"
READS = ["/health", "/api/v1/needs?limit=5", f"/api/v1/needs/{NEED}",
         f"/api/v1/needs/{NEED}/suggestions"]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of this test's own, which it may stop and start."""
    try:
        with throwaway_cluster() as own:
            yield own
    except RuntimeError as exc:
        if str(exc) != NOT_INSTALLED:
            raise
        pytest.skip(NOT_INSTALLED)


def _in_a_new_thread(work):
    """What ``work()`` returns or raises, run in a thread of its own (a new connection)."""
    out: list = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return out[0]


def test_the_store_is_unavailable_while_postgresql_is_down_and_serves_again_after(cluster):
    store = Store(cluster.url(create_database(cluster.url())))
    try:
        assert store.counts()["needs"] == 0

        cluster.stop()

        with pytest.raises(Unavailable):  # the connection it held is cut
            store.counts()
        with pytest.raises(Unavailable):  # and no new one can be opened
            store.counts()
        with pytest.raises(Unavailable), store.transaction() as db:  # a write: no other error
            db.execute("delete from needs")
        assert isinstance(_in_a_new_thread(store.counts), Unavailable)

        cluster.start()

        assert store.counts()["needs"] == 0
        with store.transaction() as db:
            db.execute("delete from needs")
        assert _in_a_new_thread(store.counts)["needs"] == 0
    finally:
        store.close()


def test_the_service_answers_503_while_postgresql_is_down_and_200_once_it_is_back(
        cluster, demo_db):
    url = cluster.url(create_database(cluster.url()))
    migrate_store(demo_db, url)
    headers = make_token(url, Role.ADMIN)
    with serve_app(create_app(load_settings(db=url))) as base, \
            httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        assert [client.get(path).status_code for path in READS] == [200] * len(READS)

        cluster.stop()
        down = [client.get(path) for path in READS * 3]

        assert [r.status_code for r in down] == [503] * len(down)
        assert all(r.headers["retry-after"] == "5" for r in down)
        detail = down[1].json()["detail"]
        assert "cannot be reached" in detail
        assert "psycopg" not in detail and cluster.url() not in detail

        cluster.start()
        back = [client.get(path) for path in READS * 3]

        assert [r.status_code for r in back] == [200] * len(back)
        assert back[-1].json()["suggestions"]


def test_a_page_says_in_the_visitors_language_to_come_back_in_a_moment(cluster, demo_db):
    url = cluster.url(create_database(cluster.url()))
    migrate_store(demo_db, url)
    cookies = {SESSION_COOKIE: new_session_id(), LANG_COOKIE: "fr"}  # a session to look up
    with serve_app(create_app(load_settings(db=url))) as base, \
            httpx.Client(base_url=base, cookies=cookies, timeout=60,
                         follow_redirects=True) as browser:
        assert browser.get("/needs").status_code == 200  # the sign-in page, in the end

        cluster.stop()
        down = browser.get("/needs")

        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert down.headers["content-type"].startswith("text/html")
        assert "De retour dans un instant" in down.text
        assert "base de données" in down.text

        cluster.start()

        assert browser.get("/needs").status_code == 200


def test_a_sqlite_write_held_off_past_the_busy_timeout_is_unavailable_and_writes_nothing(
        tmp_path):
    path = tmp_path / "busy.db"
    store = Store(path)
    holder = sqlite3.connect(path)  # another process in the middle of a long write
    holder.execute("BEGIN IMMEDIATE")
    try:
        store.db.execute("PRAGMA busy_timeout = 0")  # this connection gives up at once

        with pytest.raises(Unavailable, match="busy"), store.transaction() as db:
            db.execute("delete from meta")
    finally:
        holder.rollback()
        holder.close()
    try:
        assert store.db.value("select count(*) from meta") > 0  # nothing was deleted
        with store.transaction() as db:  # and the next write goes through
            db.execute("update meta set value = value where 1 = 0")
    finally:
        store.close()


def test_background_embedding_waits_out_an_outage_and_then_finishes(cluster):
    store = Store(cluster.url(create_database(cluster.url())))
    done = threading.Event()

    def work(stop) -> None:  # as the embedding of missing texts: reads and writes the store
        with store.transaction() as db:
            db.execute("update meta set value = value where 1 = 0")
        done.set()

    healer = Healer(work, name="test-heal")
    try:
        cluster.stop()
        assert healer.start()
        time.sleep(1)  # it met the outage
        assert healer.running and not done.is_set()

        cluster.start()

        assert done.wait(60)
        deadline = time.monotonic() + 30
        while healer.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not healer.running and healer.last_error is None
    finally:
        healer.stop()
        store.close()
