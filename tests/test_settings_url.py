"""MATCHER_DB / --db as a postgresql:// URL: kept as text, shown without its password, its
server's own files (lock files, corpus cache, demo credentials) in a state folder per
database, and a database that does not answer refused with one line. A SQLite path behaves
as it always did."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from servers import free_port
from typer.testing import CliRunner

from matcher.cli import app as cli_app
from matcher.cli import demo_credentials_file
from matcher.db_target import is_url, redacted, state_key
from matcher.process_lock import ProcessLock
from matcher.ranking import corpus_cache
from matcher.services.outbox import courier_locks
from matcher.settings import load_settings
from matcher.store import sql
from matcher.store.locks import AdvisoryLock, database_lock, lock_key

SECRET = "s3cr3t-pw"
# Nothing listens on port 1: the connection is refused at once.
DEAD = f"postgresql://bob:{SECRET}@127.0.0.1:1/delve"


def run(*args: str):
    return CliRunner().invoke(cli_app, [str(a) for a in args])


def test_a_url_stays_text_and_a_path_stays_a_path(monkeypatch, tmp_path):
    url = "postgresql://bob@db.example.org:5433/delve?sslmode=require"
    assert load_settings(db=url).db == url and load_settings(db=url).db_is_url
    monkeypatch.setenv("MATCHER_DB", url)
    assert load_settings().db == url  # the // of a URL survives the environment too
    monkeypatch.setenv("MATCHER_DB", str(tmp_path / "x.db"))
    settings = load_settings()
    assert settings.db == tmp_path / "x.db" and not settings.db_is_url
    assert settings.local_files() == tmp_path / "x.db"  # SQLite: beside its file, as before
    assert settings.glossary_file() == tmp_path / "x.glossary.json"


@pytest.mark.parametrize("target", ["postgresql://u@h/d", "postgres://u@h/d",
                                    "postgresql+psycopg://u@h/d", "exchange.db", "/a/b.db",
                                    "postgresql.db"])
def test_the_settings_and_the_store_agree_on_what_a_url_is(target):
    assert is_url(target) == sql.is_url(target)


def test_a_url_is_shown_without_its_password():
    shown = redacted(f"postgresql://bob:{SECRET}@h:5432/delve?password={SECRET}&sslmode=require")
    assert SECRET not in shown
    assert shown == "postgresql://bob:***@h:5432/delve?password=***&sslmode=require"
    assert redacted("postgresql://bob@h/delve") == "postgresql://bob@h/delve"
    assert redacted(f"postgresql://bob:{SECRET}@x/y@h/delve") == "postgresql://bob:***@h/delve"
    assert redacted(f"postgresql:///delve?host=/run&password={SECRET}") == (
        "postgresql:///delve?host=/run&password=***")
    assert redacted("/srv/exchange.db") == "/srv/exchange.db"


def test_a_server_keeps_its_own_files_in_a_folder_per_database(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MATCHER_STATE_DIR", raising=False)  # the tests' own: the default here
    first = load_settings(db=f"postgresql://bob:{SECRET}@h:5432/delve", workers=2)
    other_password = load_settings(db="postgresql://bob:changed@h:5432/delve")
    other_database = load_settings(db="postgresql://bob@h:5432/delve2")

    base = first.local_files()
    assert base.parent.parent == tmp_path / "cache" / "delve-matcher"
    assert base.parent.is_dir() and stat.S_IMODE(base.parent.stat().st_mode) == 0o700
    assert SECRET not in str(base) and SECRET not in state_key(first.db)
    assert other_password.local_files() == base  # one database, one folder
    assert other_database.local_files().parent != base.parent
    assert corpus_cache.cache_folder(base).parent == base.parent
    assert demo_credentials_file(base).parent == base.parent
    assert first.glossary_file() == Path("delve.glossary.json")  # the working directory

    chosen = load_settings(db=first.db, state_dir=tmp_path / "state")
    assert chosen.local_files().parent == tmp_path / "state"


def test_the_courier_takes_the_database_lock_over_postgresql(tmp_path):
    url = f"postgresql://bob:{SECRET}@h/delve"
    locks = courier_locks(load_settings(db=url, workers=2, state_dir=tmp_path))
    assert [type(lock) for lock in locks] == [ProcessLock, AdvisoryLock]
    assert locks[0].path == tmp_path / "delve.courier.lock"
    assert [type(lock) for lock in courier_locks(load_settings(db=url))] == [AdvisoryLock]
    sqlite = courier_locks(load_settings(db=tmp_path / "x.db", workers=2))
    assert [lock.path for lock in sqlite] == [tmp_path / "x.db.courier.lock"]  # as before
    assert courier_locks(load_settings(db=tmp_path / "x.db")) == []
    assert database_lock(tmp_path / "x.db", "courier") is None
    assert lock_key("courier") != lock_key("embed")
    assert lock_key("courier").bit_length() > 32  # never the writers' 32-bit lock


@pytest.mark.parametrize("args", [["export"], ["token", "list"], ["user", "list"],
                                  ["outbox"], ["plugins"], ["import", "-", "--no-embed"]])
def test_a_database_that_does_not_answer_is_refused_with_one_line(args):
    result = run(*args, "--db", DEAD)

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the database "
                                    "postgresql://bob:***@127.0.0.1:1/delve: ")
    assert result.stderr.strip().count("\n") == 0
    assert SECRET not in result.output


def test_an_environment_url_that_does_not_answer_is_refused_alike(monkeypatch):
    monkeypatch.setenv("MATCHER_DB", DEAD)
    result = run("token", "list")
    assert result.exit_code == 1 and "cannot reach the database" in result.stderr
    assert SECRET not in result.output


def test_migrate_store_to_a_database_that_does_not_answer_is_refused(demo_copy):
    result = run("migrate-store", "--from", demo_copy, "--to", DEAD)
    assert result.exit_code == 1 and "cannot reach the database" in result.stderr
    assert SECRET not in result.output


def test_a_path_given_for_a_url_is_refused():
    with pytest.raises(ValueError, match="as text"):
        load_settings(db=Path("postgresql://bob@h/delve"))


@pytest.fixture
def postgresql_url(postgres_url) -> str:
    """A new PostgreSQL database to test against (tests/postgres.py)."""
    return postgres_url


def test_one_session_of_all_holds_the_courier_lock_and_a_lost_one_hands_it_over(
        postgresql_url):
    first, second = AdvisoryLock(postgresql_url, "courier"), AdvisoryLock(postgresql_url,
                                                                          "courier")
    try:
        assert first.try_acquire() and first.try_acquire()  # the holder keeps it
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire() and not first.try_acquire()
        with sql.create_engine(postgresql_url).connect() as admin:  # the holder's session ends
            admin.exec_driver_sql(
                "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' "
                f"and ((classid::bigint << 32) | objid::bigint) = {lock_key('courier')}")
        assert first.try_acquire()  # taken over
        assert not second.try_acquire()  # the lost holder notices, and waits its turn
    finally:
        first.release()
        second.release()


def test_a_database_that_answers_passes_the_check(postgresql_url):
    from matcher.store.probe import unreachable

    assert unreachable(postgresql_url) is None


def test_serve_hands_the_url_to_its_worker_processes_as_it_is(monkeypatch):
    from uvicorn.supervisors import Multiprocess

    from matcher import cli

    seen = {}
    monkeypatch.setattr(cli, "_check_reachable", lambda url: None)  # as if it answered
    # the supervisor's run replaced at the edge: it would spawn the workers
    monkeypatch.setattr(Multiprocess, "run", lambda self: seen.update(
        db=os.environ["MATCHER_DB"], workers=self.config.workers))
    for name in ("MATCHER_DB", "MATCHER_WORKERS"):  # serve sets them: removed after
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    port = free_port()

    result = run("serve", "--db", DEAD, "--workers", "2", "--port", str(port))

    assert result.exit_code == 0, result.output
    assert seen == {"db": DEAD, "workers": 2}
