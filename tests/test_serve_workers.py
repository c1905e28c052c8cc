"""`matcher serve` at start and with several worker processes: /health says "starting" until
the corpus is built (at start, in the background), suggestions work once it is; with
``--workers 2`` both processes answer, a write through one is seen by the other on the next
suggestion, the outbox is delivered once, and failed sign-ins are limited across workers."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from api import throttle
from api.app import create_app
from matcher.principals import Role
from matcher.process_lock import ProcessLock, worker_lock
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from matcher.store import Mail, Store
from tests.mailserver import MailServer
from tests.servers import serve_app, serve_process, worker_pids
from tests.support import copy_database, make_token

NEED = "demo-n-001"
PATIENCE = 300  # seconds to wait for a state (a guard against hangs, not a timing)


def _until(check, what: str):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def _suggested(base: str, headers: dict[str, str]) -> list[str]:
    """The offerings suggested for NEED, asked on a new connection (which may reach either
    worker)."""
    response = httpx.get(f"{base}/api/v1/needs/{NEED}/suggestions", headers=headers,
                         timeout=120)
    assert response.status_code == 200, response.text
    return [s["offering_id"] for s in response.json()["suggestions"]]


# ---------------------------------------------------------------------- start-up
def test_health_says_starting_until_the_corpus_is_built_then_suggestions_work(
        demo_db, tmp_path, monkeypatch):
    db = copy_database(demo_db, tmp_path)
    headers = make_token(db, Role.ADMIN)
    gate = threading.Event()
    build = Engine._build_corpus

    def held_build(engine, *args):  # the build at start waits until the test has looked
        gate.wait(PATIENCE)
        return build(engine, *args)

    monkeypatch.setattr(Engine, "_build_corpus", held_build)
    app = create_app(load_settings(db=db))
    with serve_app(app, warm=False) as base:
        starting = httpx.get(f"{base}/health", timeout=30).json()
        gate.set()
        _until(lambda: httpx.get(f"{base}/health", timeout=30).json()["status"] == "ok",
               "/health to say ok")
        assert app.state.engines.get().corpus_loaded  # built at start, not by a request
        suggested = _suggested(base, headers)

    assert starting["status"] == "starting"
    assert starting["records"]["needs"] > 0
    assert len(suggested) == 10


# ---------------------------------------------------------------------- worker processes
def test_two_workers_answer_and_each_sees_a_write_made_through_the_other(demo_db, tmp_path):
    db = copy_database(demo_db, tmp_path)
    headers = make_token(db, Role.ADMIN)
    with serve_process(db, workers=2) as (base, process):
        workers = worker_pids(process)
        before = {tuple(_suggested(base, headers)) for _ in range(8)}
        gone = next(iter(before))[0]
        deleted = httpx.delete(f"{base}/api/v1/offerings/{gone}", headers=headers, timeout=60)
        after = [_suggested(base, headers) for _ in range(8)]

    assert len(workers) == 2
    assert len(before) == 1  # both workers rank alike
    assert deleted.status_code == 204, deleted.text
    assert all(gone not in offerings and len(offerings) == 10 for offerings in after)


def test_two_workers_deliver_each_queued_email_once(demo_db, tmp_path):
    db = copy_database(demo_db, tmp_path)
    store = Store(db)
    ids = [store.queue_mail(Mail(f"person{i}@example.org", "en", f"note {i}", "hello"),
                            "test") for i in range(30)]
    store.close()
    mail = MailServer()
    mail.start()
    try:
        env = {"MATCHER_SMTP_HOST": mail.host, "MATCHER_SMTP_PORT": str(mail.port),
               "MATCHER_NOTIFY_INTERVAL": "0.2"}
        with serve_process(db, workers=2, env=env):
            def all_sent() -> bool:
                check = Store(db)
                try:
                    return all(check.outbox_row(i)["sent_at"] for i in ids)
                finally:
                    check.close()

            _until(all_sent, "the outbox to be delivered")
            time.sleep(1)  # room for a second courier's copies, were there one
        with mail.lock:
            message_ids = [m["Message-ID"] for _, m in mail.messages]
    finally:
        mail.stop()

    assert len(message_ids) == len(ids)
    assert len(set(message_ids)) == len(ids)


def test_one_process_at_a_time_holds_a_worker_lock(tmp_path):
    first, second = ProcessLock(tmp_path / "x.lock"), ProcessLock(tmp_path / "x.lock")

    assert first.try_acquire() and first.try_acquire()  # the holder keeps it
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
    assert worker_lock(tmp_path / "a.db", "courier", 1) is None  # one process: no lock
    assert worker_lock(tmp_path / "a.db", "courier", 2).path == tmp_path / "a.db.courier.lock"


@pytest.fixture
def shared_throttle():
    yield
    throttle.share_among(1)
    throttle.reset_failures()


def test_each_worker_allows_its_share_of_failed_sign_ins(shared_throttle):
    throttle.share_among(2)
    key = throttle.address_key("198.51.100.7")
    for _ in range(throttle.FAILURE_LIMIT // 2 - 1):
        throttle.record_failure(key)
    below = throttle.over_limit(key)
    throttle.record_failure(key)

    assert not below and throttle.over_limit(key)
    assert throttle.limit() * 2 <= throttle.FAILURE_LIMIT


def test_the_supervisor_of_several_workers_spawns_them_without_importing_the_app(
        demo_db, tmp_path):
    """The app's imports (the engine, scikit-learn, the pages) are each worker's to make:
    made first in the supervisor too, they delayed every worker's start by seconds."""
    import subprocess
    import sys

    db = copy_database(demo_db, tmp_path)
    script = (  # uvicorn.run replaced at the edge: what matters is what came before it
        "import sys, uvicorn\n"
        "uvicorn.run = lambda target, **options: print(target, options['workers'], "
        "'api.app' in sys.modules, 'matcher.ranking.engine' in sys.modules)\n"
        "from matcher.cli import app\n"
        f"app(['serve', '--db', {str(db)!r}, '--workers', '2'])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=PATIENCE)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["api.app:create_app_from_environment", "2", "False",
                                  "False"]
