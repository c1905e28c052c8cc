"""Each thread's connection lives as long as its thread, or the store, whichever ends first.

A server's thread pool starts threads under load and stops those left idle. When a stopped
thread's connection stayed open, every burst of requests added more: a server that ran for
days ran out of file handles (SQLite) or of connections (PostgreSQL's ``max_connections``),
and every request after that failed.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from matcher.store import Store

THREADS = 8


def _closed(driver) -> bool:
    """Whether a driver's connection (sqlite3's or psycopg's) is closed."""
    if isinstance(driver, sqlite3.Connection):
        try:
            driver.execute("select 1")
        except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
            return True
        return False
    return bool(driver.closed)


def _server_connections(store: Store) -> int:
    """The sessions PostgreSQL holds open for this store's database."""
    return store.db.value("select count(*) from pg_stat_activity "
                          "where datname = current_database()")


def _server_connections_back_to(store: Store, count: int) -> int:
    """The sessions PostgreSQL holds for the database once they are back to ``count``, or
    after 30 s (a backend ends a moment after its client closes the connection)."""
    deadline = time.monotonic() + 30
    while (now := _server_connections(store)) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    return now


def _in_threads(store: Store, work, count: int = THREADS) -> list:
    """Run ``work`` in ``count`` threads that each read the store, then end; the driver
    connection each of them used."""
    drivers = []

    def thread() -> None:
        work()
        drivers.append(store.db.driver_connection)

    threads = [threading.Thread(target=thread) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return drivers


def test_a_threads_connection_closes_when_the_thread_ends(blank_target):
    store = Store(blank_target)
    try:
        before = _server_connections(store) if store.postgresql else None

        drivers = _in_threads(store, store.counts)

        assert len(drivers) == THREADS
        assert all(_closed(driver) for driver in drivers)
        assert not _closed(store.db.driver_connection)  # this thread's is still open
        if store.postgresql:
            assert _server_connections_back_to(store, before) == before
    finally:
        store.close()


def test_bursts_of_threads_leave_no_connection_behind(blank_target):
    store = Store(blank_target)
    try:
        before = _server_connections(store) if store.postgresql else None
        drivers = []
        for _ in range(3):  # as a thread pool grows under load and shrinks when idle
            drivers += _in_threads(store, store.counts)

        assert len({id(d) for d in drivers}) == 3 * THREADS  # a new connection per thread
        assert all(_closed(driver) for driver in drivers)
        if store.postgresql:
            assert _server_connections_back_to(store, before) == before
    finally:
        store.close()


def test_closing_the_store_closes_the_connections_of_threads_still_running(blank_target):
    store = Store(blank_target)
    opened, release = threading.Event(), threading.Event()
    drivers = []

    def holder() -> None:
        store.counts()
        drivers.append(store.db.driver_connection)
        opened.set()
        release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert opened.wait(30)
        assert not _closed(drivers[0])

        store.close()

        assert _closed(drivers[0])
    finally:
        release.set()
        thread.join()


def test_a_postgresql_connection_keeps_itself_alive_unless_its_url_says_otherwise(
        postgres_url):
    default, chosen = Store(postgres_url), Store(postgres_url + "&keepalives_idle=5")
    try:
        asked = default.db.driver_connection.info.get_parameters()
        kept = chosen.db.driver_connection.info.get_parameters()

        assert asked["keepalives"] == "1" and asked["keepalives_idle"] == "60"
        assert kept["keepalives_idle"] == "5" and kept["keepalives"] == "1"
    finally:
        default.close()
        chosen.close()
