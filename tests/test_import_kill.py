"""All or nothing under SIGKILL: a child process importing a large exchange file is killed at
random moments across the import; afterwards the database passes ``PRAGMA integrity_check`` and
holds exactly the old data or exactly the full new data.

The file is built from the demo set, multiplied with new ids and changed texts: the old state
holds N copies (version 1); the new document rewrites all of them (version 2) and adds N more,
so the import both updates and inserts thousands of rows. The kill delays are spread over the
import's duration, measured first, with a fixed seed; half the children run with a tiny page
cache, so that SQLite spills uncommitted pages into the WAL before the commit.
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
from pathlib import Path

import pytest

from matcher.exchange import parse_document
from matcher.reference import load_reference
from matcher.store import Store

DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
PROFILE_TABLES = ("partners", "offerings", "associations", "needs", "practices")
OLD_COPIES, NEW_COPIES = 20, 40
KILLS = 200 if os.environ.get("DELVE_LONG_TESTS") == "1" else 32  # 200 on demand (README)
SEED = 20250503
SMALL_CACHE = 16  # pages: the transaction spills to the WAL long before it commits

# A fork server: it imports the code and parses the document once, then forks one importing
# child per line "DB CACHE" it reads, saying "forked PID". The child opens DB, imports (saying
# "begun PID" when the write transaction starts and "done PID" after the commit) and waits to
# be killed. A fork costs milliseconds where a fresh interpreter costs a second: this keeps two
# dozen kills well under a minute. "ping" is answered "pong" (everything said before is read).
FORK_SERVER = r"""
import os, signal, sys, time
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
        if not begun and sql.startswith("BEGIN"):
            begun.append(1)
            say("begun", me)

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


def digest(db: Path) -> str:
    """A content digest of every profile table (and the data version)."""
    conn = sqlite3.connect(db)
    try:
        h = hashlib.sha256()
        for table in (*PROFILE_TABLES, "meta"):
            # not the random tokens a write renews (matcher.store corpus_tokens): two
            # databases with the same data have different ones
            where = " where key not like '%token'" if table == "meta" else ""
            for row in conn.execute(f"select * from [{table}]{where} order by 1"):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def check(db: Path) -> str:
    """Open the killed database (recovering its WAL), check it, and return its digest."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    return digest(db)


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

    def start(self, base: Path, db: Path, cache: int) -> tuple[int, float]:
        """A child importing into a fresh copy ``db`` of ``base``; its pid and start time."""
        shutil.copyfile(base, db)
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


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """The new document, the old database, the digests of the old and the new state, the
    import's duration per cache size, and a fork server."""
    folder = tmp_path_factory.mktemp("kill")
    old, new = folder / "old.json", folder / "new.json"
    old.write_text(json.dumps(exchange_copies(OLD_COPIES, 1)), encoding="utf-8")
    new.write_text(json.dumps(exchange_copies(NEW_COPIES, 2)), encoding="utf-8")
    base = folder / "base.db"
    store = Store(base)
    store.import_exchange(parse_document(old.read_bytes(), load_reference()))
    store.close()  # the last connection checkpoints the WAL into the file
    assert not Path(f"{base}-wal").exists() or Path(f"{base}-wal").stat().st_size == 0
    server = ForkServer(new)
    durations, new_digests = {}, set()
    for cache in (0, SMALL_CACHE, 0, SMALL_CACHE):  # the faster of two runs each
        db = folder / f"full-{cache}.db"
        pid, started = server.start(base, db, cache)
        server.wait_done(pid)
        elapsed = time.monotonic() - started
        durations[cache] = min(elapsed, durations.get(cache, elapsed))
        server.kill(pid)
        new_digests.add(check(db))
    assert len(new_digests) == 1
    yield {"folder": folder, "document": new, "base": base, "old": digest(base),
           "new": new_digests.pop(), "durations": durations, "server": server}
    server.close()


def test_the_import_is_large_and_changes_everything(states):
    doc = json.loads(states["document"].read_text("utf-8"))
    records = sum(1 + len(p["offerings"]) for p in doc["partners"]) + sum(
        1 + len(a["needs"]) + len(a["practices"]) for a in doc["associations"])

    assert records > 7000
    assert states["old"] != states["new"]


def test_sigkill_at_random_moments_leaves_the_old_or_the_full_new_state(states):
    rng = random.Random(SEED)
    # stratified over 0 .. 1.05 x the measured duration: every part of the import is hit,
    # and a few kills land after the commit
    plan = [((i + rng.random()) / KILLS * 1.05, SMALL_CACHE if i % 2 else 0)
            for i in range(KILLS)]
    rng.shuffle(plan)
    server, outcomes = states["server"], []
    for i, (fraction, cache) in enumerate(plan):
        db = states["folder"] / f"kill-{i}.db"
        pid, started = server.start(states["base"], db, cache)
        time.sleep(max(0.0, started + fraction * states["durations"][cache] - time.monotonic()))
        said = server.kill(pid)
        state = check(db)
        assert state in (states["old"], states["new"]), f"kill {i}: a partial import"
        if "done" in said:
            assert state == states["new"], f"kill {i}: committed, then lost"
        if "begun" not in said:
            assert state == states["old"], f"kill {i}: written before it began"
        outcomes.append(("done" if "done" in said else "begun" if "begun" in said else "idle",
                         "new" if state == states["new"] else "old"))
        for path in db.parent.glob(f"{db.name}*"):
            path.unlink()

    assert len(outcomes) == KILLS >= 20
    during = [state for phase, state in outcomes if phase == "begun"]
    assert len(during) >= KILLS // 2, outcomes  # most kills hit the open transaction
    assert "old" in {state for _, state in outcomes}, outcomes


def test_a_kill_right_after_the_commit_keeps_the_new_state(states):
    db = states["folder"] / "after.db"
    pid, _ = states["server"].start(states["base"], db, 0)
    states["server"].wait_done(pid)
    states["server"].kill(pid)

    assert check(db) == states["new"]


def test_cli_import_killed_mid_way_leaves_the_old_or_the_new_state(states):
    """The real command line (``matcher import FILE --db DB --no-embed``), killed while it
    imports: its whole run is timed first, and the kills land in the second half."""
    folder = states["folder"]
    command = [sys.executable, "-m", "matcher", "import", str(states["document"]), "--db"]

    def run(db: Path) -> subprocess.Popen:
        shutil.copyfile(states["base"], db)
        return subprocess.Popen([*command, str(db), "--no-embed"], env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    started = time.monotonic()
    full = run(folder / "cli-full.db")
    assert full.wait(timeout=60) == 0
    runtime = time.monotonic() - started
    assert check(folder / "cli-full.db") == states["new"]
    rng = random.Random(SEED + 1)
    for i in range(2):
        proc = run(folder / f"cli-{i}.db")
        time.sleep(runtime * (0.5 + 0.5 * rng.random()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert check(folder / f"cli-{i}.db") in (states["old"], states["new"])
