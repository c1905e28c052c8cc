"""HTTP load on `matcher serve` against a floor app, with wrk, in the same run.

    python bench/load.py [--db PATH] [--duration 15s] [--connections 10 --connections 1]
                         [--workers 1] [--rounds 1] [--kind partner]
                         [--embedders NAMES] [--random-vectors e5-multilingual]
                         [--corpus-file]

Builds or reuses the scale set db (bench/scale.py, imported and embedded as bench/latency.py
does, same default file), serves a copy of it (so the bench's token and writes stay out of the
shared file) with ``matcher serve --workers N`` on loopback, and beside it the floor app
(bench/floor_app.py: an exact numpy top 10 over 10,000 512-d float32 vectors in the same JSON
shape, one uvicorn worker). wrk (Debian package ``wrk``) drives each in turn, keep-alive, with a
Lua script that asks for a random need's suggestions with a bearer token, for each connection
count. Prints req/s, p50 and p99 of both, their ratio, the CPU time each spent per answer
(every thread of the serving processes, from /proc, over the same run) and the floor's share
of it against the matcher's, every non-2xx answer and socket error,
the server's start-up (spawn to /health "ok", spawn to the first suggestion; with
``--corpus-file`` the copy is served with the db's corpus file, as a restart would find it) and the resident
memory of each server process, with the load average of the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
READY_IN_A_ROW = 30  # /health answers 'ok' this many times in a row: every worker is ready
sys.path.insert(0, str(HERE))
from latency import (  # noqa: E402
    Associations,
    Embedders,
    Needs,
    Offerings,
    Practices,
    RandomVectors,
    ScaleDb,
    embedder_names,
    prepared_scale_db,
    server_env,
)

console = Console(width=None if sys.stdout.isatty() else 120)

LUA = """
local needs = {NEEDS}
local path_tail = "/suggestions?kind={KIND}"
local headers = {["Authorization"] = "Bearer {TOKEN}"}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed * 7919 + os.time())
  ok, bad, last_bad = 0, 0, 0
end

function request()
  return wrk.format("GET", "/api/v1/needs/" .. needs[math.random(#needs)] .. path_tail, headers)
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1; last_bad = status end
end

function done(summary, latency, requests)
  local good, wrong, status = 0, 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok"); wrong = wrong + t:get("bad")
    if t:get("last_bad") ~= 0 then status = t:get("last_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"ok": %d, "non_2xx": %d, "a_non_2xx_status": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    good, wrong, status, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}
                                     if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _serving_pids(pid: int) -> list[int]:
    """The process that answers (one worker) or, with workers, the workers (not uvicorn's
    supervisor nor multiprocessing's resource tracker)."""
    workers = [c for c in _children(pid)
               if "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text()]
    return workers or [pid]


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path):
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _copy_db(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def _link_corpus(source: Path, target: Path) -> None:
    """The source db's corpus files beside the copy (hard links; the bytes are the same, and
    a file is replaced, never written in place)."""
    folder, into = Path(str(source) + ".corpus"), Path(str(target) + ".corpus")
    into.mkdir(exist_ok=True)
    for path in folder.glob("corpus-*.bin"):
        try:
            os.link(path, into / path.name)
        except OSError:
            shutil.copyfile(path, into / path.name)


def _wrk(url: str, script: Path, connections: int, duration: str) -> dict:
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}",
                          "--timeout", "10s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p50_ms"] = result["p50_us"] / 1000
    result["p99_ms"] = result["p99_us"] / 1000
    return result


def _cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user + system, every thread) the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def _measured(url: str, script: Path, connections: int, duration: str,
              pids: list[int]) -> dict:
    """One wrk run, with the CPU the serving processes spent per answer during it: a
    figure that a busy neighbour on the machine moves less than the rate."""
    before = _cpu_seconds(pids)
    result = _wrk(url, script, connections, duration)
    result["cpu_ms"] = 1000 * (_cpu_seconds(pids) - before) / max(result["requests"], 1)
    return result


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(
    offerings: Offerings = 10_000,
    practices: Practices = 10_000,
    associations: Associations = 500,
    needs: Needs = 1_000,
    seed: int = 0,
    db: ScaleDb = None,
    embedders: Embedders = None,
    random_vectors: RandomVectors = None,
    duration: Annotated[str, typer.Option(help="wrk's duration per measurement")] = "15s",
    connections: Annotated[list[int] | None, typer.Option(
        help="connection counts (repeatable; default 10 and 1)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="matcher serve --workers")] = 1,
    rounds: Annotated[int, typer.Option(min=1, help="measurements of each; medians shown")] = 1,
    kind: Annotated[str, typer.Option(help="partner or peer")] = "partner",
    keep: Annotated[Path | None, typer.Option(help="keep the logs and script in this "
                                                   "folder")] = None,
    corpus_file: Annotated[bool, typer.Option(
        "--corpus-file/--no-corpus-file", help="serve the copy with the db's corpus file (a "
        "restart: the corpus is read, not built)")] = False,
) -> None:
    """Load-test `matcher serve` and the floor app with wrk, side by side."""
    from matcher.principals import Role
    from matcher.store import Store

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    connections = connections or [10, 1]
    names = embedder_names(embedders)
    db, prep = prepared_scale_db(offerings, practices, associations, needs, seed, db, names,
                                 random_vectors)
    work = Path(tempfile.mkdtemp(prefix="delve-load-")) if keep is None else keep
    work.mkdir(parents=True, exist_ok=True)
    served = work / "served.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(served) + suffix).unlink(missing_ok=True)
    _copy_db(db, served)
    shutil.rmtree(str(served) + ".corpus", ignore_errors=True)
    if corpus_file:
        _link_corpus(db, served)
    store = Store(served)
    _, token = store.create_token(Role.ADMIN, label="bench/load.py")
    need_ids = [n["id"] for n in store.needs()]
    store.close()

    env = server_env(names)
    port, floor_port = _free_port(), _free_port()
    base, floor_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
    probe = f"{base}/api/v1/needs/{need_ids[0]}/suggestions?kind={kind}"
    console.print(f"db {db} ({'reused' if prep.get('reused') else 'built'}), served from a "
                  f"copy in {work}; {len(need_ids)} needs; embedders {', '.join(names)}")
    server_args = [sys.executable, "-m", "matcher", "serve", "--db", str(served),
                   "--port", str(port), "--workers", str(workers)]
    with _process(server_args, env, work / "server.log") as server:
        spawned = time.perf_counter()
        health_ok = first = None
        deadline = spawned + 900
        while (first is None or health_ok is None) and time.perf_counter() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the server exited; see {work / 'server.log'}")
            status, body = _get(f"{base}/health")
            if status == 200 and health_ok is None and json.loads(body)["status"] == "ok":
                health_ok = time.perf_counter() - spawned
            if status == 200 and first is None and _get(probe, token)[0] == 200:
                first = time.perf_counter() - spawned
            time.sleep(0.05)
        if first is None or health_ok is None:
            raise SystemExit(f"no suggestion or no 'ok' within 900 s; see {work / 'server.log'}")
        # every worker ready: each /health is a new connection that any worker may take, so
        # 'ok' many times in a row means every worker says so (one still loading its corpus
        # would make the first seconds of the measurement those of one worker)
        in_a_row = 0
        while in_a_row < READY_IN_A_ROW and time.perf_counter() < deadline:
            status, body = _get(f"{base}/health")
            ok = status == 200 and json.loads(body)["status"] == "ok"
            in_a_row = in_a_row + 1 if ok else 0
            time.sleep(0.02 if ok else 0.2)
        status, template = _get(probe, token)
        (work / "template.json").write_bytes(template)
        floor_env = dict(env, FLOOR_TEMPLATE=str(work / "template.json"), FLOOR_TOKEN=token)
        floor_args = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--factory",
                      "floor_app:create_app", "--port", str(floor_port), "--workers", "1",
                      "--log-level", "warning", "--no-access-log"]
        with _process(floor_args, floor_env, work / "floor.log") as floor:
            while _get(f"{floor_base}/api/v1/needs/{need_ids[0]}/suggestions", token)[0] != 200:
                if floor.poll() is not None:
                    raise SystemExit(f"the floor app exited; see {work / 'floor.log'}")
                time.sleep(0.1)
            script = work / "suggest.lua"
            script.write_text(LUA.replace("{NEEDS}", "{" + ", ".join(
                json.dumps(i) for i in need_ids) + "}").replace("{TOKEN}", token)
                .replace("{KIND}", kind), encoding="utf-8")
            for url in (base, floor_base):  # warm both (each worker's caches)
                _wrk(url, script, max(connections), "5s")
            results: dict[tuple[str, int], list[dict]] = {}
            serving = _serving_pids(server.pid)
            for _ in range(rounds):
                for conns in connections:
                    for name, url, pids in (("matcher", base, serving),
                                            ("floor", floor_base, [floor.pid])):
                        results.setdefault((name, conns), []).append(
                            _measured(url, script, conns, duration, pids))
            rss = {pid: _rss_mib(pid) for pid in _serving_pids(server.pid)}
            floor_rss = _rss_mib(floor.pid)
            load = _load_average()

    table = Table(title=f"wrk, {duration} each, keep-alive, random needs ({kind}), "
                        f"{rounds} round(s): medians")
    for column in ("connections", "server", "req/s", "p50 ms", "p99 ms", "non-2xx",
                   "socket errors", "req/s vs floor", "CPU ms/answer",
                   "CPU: floor ÷ it"):
        table.add_column(column, justify="right")
    bad = 0
    for conns in connections:
        floor_rps = statistics.median(r["rps"] for r in results[("floor", conns)])
        floor_cpu = statistics.median(r["cpu_ms"] for r in results[("floor", conns)])
        for name in ("matcher", "floor"):
            runs = results[(name, conns)]
            rps = statistics.median(r["rps"] for r in runs)
            cpu = statistics.median(r["cpu_ms"] for r in runs)
            non_2xx = sum(r["non_2xx"] for r in runs)
            bad += non_2xx
            label = f"matcher ({workers} worker{'s' if workers > 1 else ''})" \
                if name == "matcher" else "floor (1 worker)"
            table.add_row(str(conns), label, f"{rps:.0f}",
                          f"{statistics.median(r['p50_ms'] for r in runs):.1f}",
                          f"{statistics.median(r['p99_ms'] for r in runs):.1f}",
                          str(non_2xx) + (f" (e.g. {runs[-1]['a_non_2xx_status']})"
                                          if non_2xx else ""),
                          str(sum(r["socket_errors"] for r in runs)),
                          f"{rps / floor_rps:.2f}", f"{cpu:.2f}", f"{floor_cpu / cpu:.2f}")
    console.print(table)
    console.print(f"start-up: /health 'ok' {health_ok:.2f} s after spawn, first suggestion "
                  f"{first:.2f} s after spawn (python start and imports included)")
    console.print("resident memory (MiB): matcher " + ", ".join(
        f"pid {pid} {mib:.0f}" for pid, mib in rss.items()) + f"; floor {floor_rss:.0f}")
    console.print(f"load average at the end (1, 5, 15 min): {load}; cores: {os.cpu_count()}")
    if bad:
        console.print(f"[red]{bad} answers were not 2xx[/red]")
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
