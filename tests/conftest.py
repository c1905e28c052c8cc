"""Shared fixtures: the real packaged embedding model, a real SQLite file with the demo data, a
TestClient and an admin token over it (helpers in support.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _key in [k for k in os.environ if k.startswith("MATCHER_")]:
    del os.environ[_key]  # tests run on the defaults, whatever the developer's shell says
# what a server keeps for a PostgreSQL database (corpus cache, locks): the session's own folder
os.environ["MATCHER_STATE_DIR"] = tempfile.mkdtemp(prefix="matcher-state-")
atexit.register(shutil.rmtree, os.environ["MATCHER_STATE_DIR"], ignore_errors=True)
# one model thread, as a server: `matcher import` would take every core (tests/test_cli.py
# checks that), and the tests run beside one another on a small machine
os.environ["MATCHER_THREADS"] = "1"

from support import api_client, copy_database, make_token  # noqa: E402

from matcher.exchange import parse_document  # noqa: E402
from matcher.principals import Role  # noqa: E402
from matcher.ranking.engine import Engine  # noqa: E402
from matcher.reference import default_data_dir, load_reference  # noqa: E402
from matcher.settings import Settings, load_settings  # noqa: E402
from matcher.store import Store  # noqa: E402

DATA = default_data_dir()
DEMO = DATA / "demo.json"


@pytest.fixture(scope="session")
def ref():
    return load_reference()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A SQLite file with the demo data imported and embedded by the real model (built once)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = Engine(load_settings(db=path))
    engine.store.import_exchange(parse_document(DEMO.read_bytes(), engine.ref))
    engine.sync_embeddings()
    engine.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.store.close()
    return path


@pytest.fixture(scope="session")
def engine(demo_db) -> Engine:
    """A read-only engine over the demo data; do not write through it (use ``demo_copy``)."""
    return Engine(load_settings(db=demo_db))


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo database that a test may change."""
    return copy_database(demo_db, tmp_path)


@pytest.fixture
def db(demo_copy) -> Path:
    """The database that ``client`` and ``admin`` use: ``demo_copy`` unless a module overrides
    it (to prepare the copy, or to share one copy across the module)."""
    return demo_copy


@pytest.fixture
def client(db):
    """A TestClient over the app on ``db``, its lifespan running for the test."""
    with api_client(db) as test_client:
        yield test_client


@pytest.fixture
def admin(db) -> dict[str, str]:
    """Headers carrying a new admin token in ``db``."""
    return make_token(db, Role.ADMIN)


@pytest.fixture
def empty_db(tmp_path) -> Path:
    return tmp_path / "empty.db"


@pytest.fixture
def settings_for():
    def make(db: Path, **overrides) -> Settings:
        return load_settings(db=db, **overrides)
    return make


@pytest.fixture
def store(blank_target) -> Store:
    """A new, empty store of either backend (the test runs on both: SQLite, then PostgreSQL)."""
    s = Store(blank_target)
    yield s
    s.close()

# the browser fixtures (browser, visit) and page checks; PostgreSQL (a cluster per session,
# a database per test, ``blank_target`` on either backend)
pytest_plugins = ["browsing", "postgres"]


@pytest.fixture
def mail_server():
    """A real SMTP server on a free loopback port (aiosmtpd), running for the test."""
    from mailserver import MailServer

    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
