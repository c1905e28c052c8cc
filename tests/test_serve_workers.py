"""`matcher serve` at start and with several worker processes: /health says "starting" until
the corpus is built (at start, in the background), suggestions work once it is; with
``--workers 2`` both processes answer, a write through one is seen by the other on the next
suggestion, the outbox is delivered once, and failed sign-ins are limited across workers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from api import throttle
from api.app import create_app
from api.workers import listening_socket
from matcher.principals import Role
from matcher.process_lock import ProcessLock, worker_lock
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from matcher.store import Mail, Store
from tests.mailserver import MailServer
from tests.servers import free_port, serve_app, serve_process, worker_pids
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
        port = int(base.rsplit(":", 1)[1])
        listeners = _until(lambda: (found := _listening_pids(port, [process.pid, *workers]))
                           and len(found) == 2 and found, "both workers to listen")
        before = {tuple(_suggested(base, headers)) for _ in range(8)}
        gone = next(iter(before))[0]
        deleted = httpx.delete(f"{base}/api/v1/offerings/{gone}", headers=headers, timeout=60)
        after = [_suggested(base, headers) for _ in range(8)]

    assert len(workers) == 2
    # each worker listens on a socket of its own (one SO_REUSEPORT group), the supervisor
    # on none: the kernel spreads the connections over the workers
    assert sorted(listeners) == sorted(workers)
    assert len(before) == 1  # both workers rank alike
    assert deleted.status_code == 204, deleted.text
    assert all(gone not in offerings and len(offerings) == 10 for offerings in after)


def _listening_pids(port: int, pids: list[int]) -> list[int]:
    """For each socket listening on ``port`` (Linux's /proc/net/tcp), the pid among ``pids``
    that holds it."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    holders = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                holders.append(pid)
    assert len(holders) == len(inodes)  # every listener is one of these processes'
    return holders


def test_a_listening_socket_of_a_worker_sends_without_delay():
    """A worker's own socket is a TCP one by name: asyncio sets TCP_NODELAY on what it
    accepts (without it, each answer waited ~40 ms for the client's delayed ACK)."""
    async def accepted_nodelay() -> int:
        sock = listening_socket("127.0.0.1", 0)
        got: asyncio.Future = asyncio.get_running_loop().create_future()

        def connected(transport: asyncio.Transport) -> None:
            conn = transport.get_extra_info("socket")
            got.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(
            lambda: _OnConnect(connected), sock=sock)
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(got, 30)
        finally:
            writer.close()
            server.close()

    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs in this thread
        assert pool.submit(asyncio.run, accepted_nodelay()).result(timeout=60) != 0


class _OnConnect(asyncio.Protocol):
    def __init__(self, callback):
        self.callback = callback

    def connection_made(self, transport):  # noqa: ANN001
        self.callback(transport)


def test_several_workers_on_a_port_in_use_stop_with_one_line(demo_db, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "matcher", "serve", "--db", str(demo_db), "--port",
             str(port), "--workers", "2"], capture_output=True, text=True, timeout=120)
    finally:
        taken.close()

    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == \
        f"Error: 127.0.0.1:{port} is in use by another process"


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
    db = copy_database(demo_db, tmp_path)
    port = free_port()
    script = (  # the supervisor's run replaced at the edge: what matters is what came before
        "import sys\n"
        "from uvicorn.supervisors import Multiprocess\n"
        "Multiprocess.run = lambda self: print(self.config.app, self.config.workers, "
        "'api.app' in sys.modules, 'matcher.ranking.engine' in sys.modules)\n"
        "from matcher.cli import app\n"
        f"app(['serve', '--db', {str(db)!r}, '--workers', '2', '--port', '{port}'])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=PATIENCE)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["api.app:create_app_from_environment", "2", "False",
                                  "False"]
