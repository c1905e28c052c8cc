"""PostgreSQL for the tests: a throwaway cluster for the session and an empty database per test.

The session's cluster lives in a temporary directory (its unix socket there too, no TCP
port, fsync off), started with the ``initdb`` and ``pg_ctl`` found on PATH or under
/usr/lib/postgresql/*/bin (as the ``postgres`` user when the tests run as root), and stopped
when the session ends, however it ends. Without them the PostgreSQL tests are skipped, with
the reason. ``blank_target`` runs a test on both backends: a new SQLite file, then a new
PostgreSQL database. ``throwaway_cluster``, ``create_database`` and ``drop_database`` are plain
functions, also used by bench/backends.py.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NOT_INSTALLED = "PostgreSQL is not installed: initdb not found"


def _program(name: str) -> str | None:
    """A PostgreSQL program on PATH, or else in the newest /usr/lib/postgresql/<n>/bin."""
    found = shutil.which(name)
    if found:
        return found
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    installed.sort(key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    return installed[-1] if installed else None


def _as_owner(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")


class Cluster:
    """A running throwaway cluster: its socket directory and how to reach a database."""

    def __init__(self, directory: Path, pg_ctl: str):
        self.directory, self.pg_ctl = directory, pg_ctl

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.directory}"

    def start(self) -> None:
        """Start the server (again) on its data directory; back when it accepts sessions."""
        _run([self.pg_ctl, "-D", str(self.directory / "data"), "-w", "-l",
              str(self.directory / "log"), "-o",
              f"-k {self.directory} -c listen_addresses='' -c fsync=off "
              "-c full_page_writes=off -c synchronous_commit=off -c max_connections=300",
              "start"])

    def stop(self) -> None:
        """Stop the server at once, as a crash would: every session is cut."""
        _run([self.pg_ctl, "-D", str(self.directory / "data"), "-m", "immediate", "-w",
              "stop"])


class Given(Cluster):
    """A cluster somebody else started and stops (``.ci/run``): its socket directory is in
    ``DELVE_TEST_POSTGRESQL_SOCKET``."""

    def stop(self) -> None:
        pass


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new PostgreSQL cluster in a temporary directory, stopped and removed on leaving,
    however it is left; RuntimeError (``NOT_INSTALLED``) without initdb and pg_ctl."""
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError(NOT_INSTALLED)
    directory = Path(tempfile.mkdtemp(prefix="matcher-pg-", dir="/tmp"))  # short socket path
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    data, cluster, started = directory / "data", Cluster(directory, pg_ctl), False
    try:
        _run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
              "-E", "UTF8", "--locale=C.UTF-8"])
        cluster.start()
        started = True
        yield cluster
    finally:
        try:
            if started:
                cluster.stop()
        except RuntimeError:  # stopped already (a test that stops it failed before starting it)
            pass
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def create_database(cluster_url: str) -> str:
    """A new, empty database beside the one of ``cluster_url``; its name."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(cluster_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return name


def drop_database(cluster_url: str, name: str) -> None:
    """Drop database ``name`` of the cluster of ``cluster_url``, closing its connections."""
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this session: the one ``DELVE_TEST_POSTGRESQL_SOCKET`` names
    (``.ci/run`` starts one), or else one started here, stopped and removed when the session
    ends."""
    given = os.environ.get("DELVE_TEST_POSTGRESQL_SOCKET")
    if given:
        yield Given(Path(given), "")
        return
    if _program("initdb") is None or _program("pg_ctl") is None:
        pytest.skip(NOT_INSTALLED)
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty database of the session's cluster, dropped after the test."""
    name = create_database(postgres_cluster.url())
    try:
        yield postgres_cluster.url(name)
    finally:
        drop_database(postgres_cluster.url(), name)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_target(request, tmp_path) -> str:
    """A new, empty database of either backend: a SQLite file's path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "blank.db")
    return request.getfixturevalue("postgres_url")


def new_database(cluster: Cluster, request) -> str:
    """A new, empty database of ``cluster``, dropped when ``request``'s scope ends; its URL."""
    name = create_database(cluster.url())
    request.addfinalizer(lambda: drop_database(cluster.url(), name))
    return cluster.url(name)


def demo_target(request, demo_db: Path, folder: Path, backend: str | None = None) -> str:
    """A private database holding the demo data (imported and embedded) of ``backend``
    (default ``request.param``): a copy of the file ``demo_db`` in ``folder``, or a new
    PostgreSQL database it was copied into with ``matcher migrate-store``'s code."""
    from matcher.services.migrate_store import migrate_store

    if (backend or request.param) == "sqlite":
        target = folder / "demo.db"
        shutil.copyfile(demo_db, target)
        return str(target)
    url = new_database(request.getfixturevalue("postgres_cluster"), request)
    migrate_store(demo_db, url)
    return url
