"""All or nothing under SIGKILL: a child process importing a large exchange file is killed at
random moments across the import; afterwards the database holds exactly the old data or exactly
the full new data. On SQLite it also passes ``PRAGMA integrity_check``; on PostgreSQL no
session of the killed child stays open (its transaction was rolled back, not left dangling).

The file is built from the demo set, multiplied with new ids and changed texts: the old state
holds N copies (version 1); the new document rewrites all of them (version 2) and adds N more,
so the import both updates and inserts thousands of rows. The kill delays are spread over the
import's duration, measured first, with a fixed seed; half the children run with a tiny page
cache, so that SQLite spills uncommitted pages into the WAL before the commit. Each kill
imports into a fresh copy of the old database: a copied file, or a PostgreSQL database created
from the old one as its template.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from postgres import new_database

from matcher.exchange import parse_document
from matcher.reference import load_reference
from matcher.store import Store

DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
PROFILE_TABLES = ("partners", "offerings", "associations", "needs", "practices")
OLD_COPIES, NEW_COPIES = 20, 40
LONG = os.environ.get("DELVE_LONG_TESTS") == "1"
KILLS = {"sqlite": 200 if LONG else 32, "postgresql": 200 if LONG else 16}  # more on demand
SEED = 20250503
SMALL_CACHE = 16  # pages: the transaction spills to the WAL long before it commits

# A fork server: it imports the code and parses the document once, then forks one importing
# child per line "DB CACHE" it reads, saying "forked PID". The child opens DB, imports (saying
# "begun PID" when the write transaction starts and "done PID" after the commit) and waits to
# be killed. A fork costs milliseconds where a fresh interpreter costs a second: this keeps two
# dozen kills well under a minute. "ping" is answered "pong" (everything said before is read).
FORK_SERVER = r"""
import os, signal, sys, time
import sqlalchemy as sa
from matcher.exchange import parse_document
from matcher.reference import load_reference
from matcher.store import Store

def say(*words):
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()

def child(db, cache):
    me = os.getpid()
    store = Store(db)
    if cache:
        store.db.execute(f"PRAGMA cache_size = {cache}")
    begun = []

    def trace(sql):
        if not begun and sql.lstrip().upper().startswith("BEGIN"):
            begun.append(1)
            say("begun", me)

    if store.db.postgresql:  # said just before the BEGIN leaves for the server
        sa.event.listen(store.db.connection, "before_cursor_execute",
                        lambda conn, cursor, sql, *rest: trace(sql))
    else:
        store.db.driver_connection.set_trace_callback(trace)
    store.import_exchange(doc)
    say("done", me)
    while True:
        time.sleep(60)

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the killed children
doc = parse_document(open(sys.argv[1], "rb").read(), load_reference())
say("ready")
for line in sys.stdin:
    if line.strip() == "ping":
        say("pong")
        continue
    db, cache = line.split()
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child(db, int(cache))
        finally:
            os._exit(1)
    say("forked", pid)
"""


def exchange_copies(copies: int, version: int) -> dict:
    """The demo set ``copies`` times, with new ids and texts marked with ``version``."""
    def mark(text: str, k: int) -> str:
        return f"{text} (copy {k}, version {version})"

    doc = {"partners": [], "associations": []}
    for k in range(copies):
        for p in DEMO["partners"]:
            doc["partners"].append({
                **p, "id": f"{p['id']}-x{k}", "description": mark(p["description"], k),
                "offerings": [{**o, "id": f"{o['id']}-x{k}",
                               "description": mark(o["description"], k)}
                              for o in p["offerings"]]})
        for a in DEMO["associations"]:
            doc["associations"].append({
                **a, "id": f"{a['id']}-x{k}", "description": mark(a["description"], k),
                "needs": [{**n, "id": f"{n['id']}-x{k}", "text": mark(n["text"], k)}
                          for n in a["needs"]],
                "practices": [{**pr, "id": f"{pr['id']}-x{k}", "text": mark(pr["text"], k)}
                              for pr in a["practices"]]})
    return doc


def digest(db: str) -> str:
    """A content digest of every profile table (and the data version), read through the
    store (not PostgreSQL's own ``rowid`` column)."""
    store = Store(db)
    try:
        h = hashlib.sha256()
        for table in (*PROFILE_TABLES, "meta"):
            # not the random tokens a write renews (matcher.store corpus_tokens): two
            # databases with the same data have different ones
            where = " where key not like '%token'" if table == "meta" else ""
            for row in store.db.rows(f'select * from "{table}"{where} order by 1'):
                row.pop("rowid", None)
                h.update(repr(sorted(row.items())).encode())
        return h.hexdigest()
    finally:
        store.close()


class Sqlite:
    """Copies of the old database as files; a killed one must pass SQLite's own checks."""

    name = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder

    def base(self) -> str:
        return str(self.folder / "base.db")

    def copy(self, base: str, name: str) -> str:
        target = self.folder / f"{name}.db"
        shutil.copyfile(base, target)
        return str(target)

    def check(self, db: str) -> str:
        """Open the killed database (recovering its WAL), check it, and return its digest."""
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()
        return digest(db)

    def discard(self, db: str) -> None:
        for path in Path(db).parent.glob(f"{Path(db).name}*"):
            path.unlink()


def _database(url: str) -> str:
    """The database name in a PostgreSQL URL."""
    return urlsplit(url).path.lstrip("/")


class Postgresql:
    """Copies of the old database as databases made from it as template; once the child is
    killed, no session of it may stay open in the copy."""

    name = "postgresql"

    def __init__(self, cluster, request):
        self.cluster, self.request = cluster, request
        self.prefix = f"kill_{uuid.uuid4().hex[:8]}"

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(statement)

    def base(self) -> str:
        return new_database(self.cluster, self.request)

    def copy(self, base: str, name: str) -> str:
        template = _database(base)
        database = f"{self.prefix}_{name}".replace("-", "_")
        self._admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        return self.cluster.url(database)

    def check(self, db: str) -> str:
        """Wait until the killed child's session is gone (PostgreSQL rolls its transaction
        back when it sees the connection closed), then return the digest."""
        database = _database(db)
        deadline = time.monotonic() + 30
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            while admin.execute("select count(*) from pg_stat_activity where datname = %s",
                                [database]).fetchone()[0]:
                assert time.monotonic() < deadline, "the killed child's session stays open"
                time.sleep(0.01)
        return digest(db)

    def discard(self, db: str) -> None:
        database = _database(db)
        self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


LINE_TIMEOUT = 300.0  # a child that neither finishes nor dies fails the test, never hangs it


class ForkServer:
    """Starts importing children on demand (see ``FORK_SERVER``) and kills them."""

    def __init__(self, document: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", FORK_SERVER, str(document)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env(),
                                     bufsize=0)
        self._pending = b""
        assert self._line() == ["ready"], "the fork server did not start"

    def _line(self, timeout: float = LINE_TIMEOUT) -> list[str]:
        """The server's next line; fails (never hangs) when none comes within ``timeout``."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            assert ready, f"the fork server said nothing for {timeout:.0f} s"
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            assert chunk, "the fork server died"
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode().split()

    def _send(self, line: str) -> None:
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def start(self, db: str, cache: int) -> tuple[int, float]:
        """A child importing into ``db`` (a fresh copy of the old database); its pid and
        start time."""
        self._send(f"{db} {cache}")
        words = self._line()
        assert words[0] == "forked", words
        return int(words[1]), time.monotonic()

    def wait_done(self, pid: int) -> None:
        while self._line() != ["done", str(pid)]:
            pass

    def kill(self, pid: int) -> set[str]:
        """SIGKILL the child, wait until it is gone; return what it had said."""
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.002)
        else:
            raise AssertionError(f"child {pid} did not die")
        self._send("ping")
        said = set()
        while (words := self._line()) != ["pong"]:
            if words[1:] == [str(pid)]:
                said.add(words[0])
        return said

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent.parent),
                                                       env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def states(request, tmp_path_factory):
    """The backend, the new document, the old database, the digests of the old and the new
    state, the import's duration per cache size, and a fork server."""
    folder = tmp_path_factory.mktemp("kill")
    backend = Sqlite(folder) if request.param == "sqlite" else \
        Postgresql(request.getfixturevalue("postgres_cluster"), request)
    caches = (0, SMALL_CACHE) if backend.name == "sqlite" else (0,)  # a PRAGMA of SQLite's
    old, new = folder / "old.json", folder / "new.json"
    old.write_text(json.dumps(exchange_copies(OLD_COPIES, 1)), encoding="utf-8")
    new.write_text(json.dumps(exchange_copies(NEW_COPIES, 2)), encoding="utf-8")
    base = backend.base()
    store = Store(base)
    store.import_exchange(parse_document(old.read_bytes(), load_reference()))
    store.close()  # SQLite: the last connection checkpoints the WAL into the file
    assert not Path(f"{base}-wal").exists() or Path(f"{base}-wal").stat().st_size == 0
    server = ForkServer(new)
    durations, new_digests = {}, set()
    for k, cache in enumerate(caches * 2):  # the faster of two runs each
        db = backend.copy(base, f"full-{k}")
        pid, started = server.start(db, cache)
        server.wait_done(pid)
        elapsed = time.monotonic() - started
        durations[cache] = min(elapsed, durations.get(cache, elapsed))
        server.kill(pid)
        new_digests.add(backend.check(db))
        backend.discard(db)
    assert len(new_digests) == 1
    yield {"backend": backend, "folder": folder, "document": new, "base": base,
           "old": digest(base), "new": new_digests.pop(), "durations": durations,
           "caches": caches, "server": server}
    server.close()


def test_the_import_is_large_and_changes_everything(states):
    doc = json.loads(states["document"].read_text("utf-8"))
    records = sum(1 + len(p["offerings"]) for p in doc["partners"]) + sum(
        1 + len(a["needs"]) + len(a["practices"]) for a in doc["associations"])

    assert records > 7000
    assert states["old"] != states["new"]


def test_sigkill_at_random_moments_leaves_the_old_or_the_full_new_state(states):
    backend, caches = states["backend"], states["caches"]
    kills = KILLS[backend.name]
    rng = random.Random(SEED)
    # stratified over 0 .. 1.05 x the measured duration: every part of the import is hit,
    # and a few kills land after the commit
    plan = [((i + rng.random()) / kills * 1.05, caches[i % len(caches)]) for i in range(kills)]
    rng.shuffle(plan)
    server, outcomes = states["server"], []
    for i, (fraction, cache) in enumerate(plan):
        db = backend.copy(states["base"], f"kill-{i}")
        pid, started = server.start(db, cache)
        time.sleep(max(0.0, started + fraction * states["durations"][cache] - time.monotonic()))
        said = server.kill(pid)
        state = backend.check(db)
        assert state in (states["old"], states["new"]), f"kill {i}: a partial import"
        if "done" in said:
            assert state == states["new"], f"kill {i}: committed, then lost"
        if "begun" not in said:
            assert state == states["old"], f"kill {i}: written before it began"
        outcomes.append(("done" if "done" in said else "begun" if "begun" in said else "idle",
                         "new" if state == states["new"] else "old"))
        backend.discard(db)

    assert len(outcomes) == kills >= 16
    during = [state for phase, state in outcomes if phase == "begun"]
    assert len(during) >= kills // 2, outcomes  # most kills hit the open transaction
    assert "old" in {state for _, state in outcomes}, outcomes


def test_a_kill_right_after_the_commit_keeps_the_new_state(states):
    backend = states["backend"]
    db = backend.copy(states["base"], "after")
    pid, _ = states["server"].start(db, 0)
    states["server"].wait_done(pid)
    states["server"].kill(pid)

    assert backend.check(db) == states["new"]
    backend.discard(db)


def test_cli_import_killed_mid_way_leaves_the_old_or_the_new_state(states):
    """The real command line (``matcher import FILE --db DB --no-embed``), killed while it
    imports: its whole run is timed first, and the kills land in the second half."""
    backend = states["backend"]
    command = [sys.executable, "-m", "matcher", "import", str(states["document"]), "--db"]

    def run(db: str) -> subprocess.Popen:
        return subprocess.Popen([*command, db, "--no-embed"], env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    started = time.monotonic()
    full = run(db := backend.copy(states["base"], "cli-full"))
    assert full.wait(timeout=60) == 0
    runtime = time.monotonic() - started
    assert backend.check(db) == states["new"]
    backend.discard(db)
    rng = random.Random(SEED + 1)
    for i in range(2):
        proc = run(db := backend.copy(states["base"], f"cli-{i}"))
        time.sleep(runtime * (0.5 + 0.5 * rng.random()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert backend.check(db) in (states["old"], states["new"])
        backend.discard(db)
