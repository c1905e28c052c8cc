"""Concurrent creates over HTTP: writes/s with N writers sharing one association token.

    python bench/concurrent_writes.py [--db PATH] [--writers 10] [--writes 200] [--runs 3]

Without ``--db`` the demo set (data/demo.json) is imported and embedded into a temporary file
first. Each run copies the database, starts a real server in its own process
(``python -m matcher serve``), and has ``--writers`` threads create ``--writes`` needs in all
(each with its own ``Idempotency-Key``) through ``POST /api/v1/associations/{id}/needs``, after
one warm-up create that loads the model (not counted). Prints
the median writes/s over the runs, p50/p99 latency of all requests, every status seen, and
whether each ``201`` is exactly one new row. ``--source DIR`` serves another checkout of the
code (to compare with an earlier version).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx
import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=None if sys.stdout.isatty() else 140)
TEXTS = ("Our pit walls collapse in the rainy season; we need shoring advice",
         "We need a buyer who pays a fair price for our gold",
         "Members lack protective equipment against mercury vapour",
         "Nous cherchons une formation en comptabilité pour la coopérative")


def demo_db(folder: Path) -> Path:
    from matcher.exchange import parse_document
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    path = folder / "demo.db"
    engine = Engine(load_settings(db=path))
    try:
        engine.store.import_exchange(parse_document((ROOT / "data" / "demo.json").read_bytes(),
                                                    engine.ref))
        engine.sync_embeddings()
    finally:
        engine.store.close()
    return path


def association_token(db: Path) -> tuple[str, str]:
    from matcher.principals import Role
    from matcher.store import Store

    store = Store(db)
    try:
        association = store.associations()[0]["id"]
        return association, store.create_token(Role.ASSOCIATION, association_id=association,
                                               label="bench")[1]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: Path, source: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env["PYTHONPATH"] = str(source)
    proc = subprocess.Popen([sys.executable, "-m", "matcher", "serve", "--db", str(db),
                             "--port", str(port)], cwd=source, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def one_run(base: Path, folder: Path, source: Path, writers: int, writes: int) -> dict:
    db = folder / f"run-{uuid.uuid4().hex[:6]}.db"
    shutil.copyfile(base, db)
    association, token = association_token(db)
    marker = f"bench-{uuid.uuid4().hex[:8]}"
    proc, url = start_server(db, source)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as warm:
            warm.get(f"/api/v1/needs?association_id={association}&limit=1")
            warm.get(f"/api/v1/associations/{association}/suggestions")  # the corpus
            warm.post(f"/api/v1/associations/{association}/needs",  # loads the model
                      json={"text": f"{TEXTS[0]} (warm-up)."})
        latencies: list[float] = []
        statuses: Counter = Counter()
        created: list[str] = []
        errors: list[str] = []
        start_line = threading.Barrier(writers + 1)

        def writer(w: int) -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                start_line.wait()
                for i in range(w, writes, writers):
                    text = f"{TEXTS[i % len(TEXTS)]} ({marker} {i})."
                    began = time.perf_counter()
                    try:
                        r = client.post(f"/api/v1/associations/{association}/needs",
                                        json={"text": text},
                                        headers={"Idempotency-Key": f"{marker}-{i}"})
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))
                        return
                    latencies.append(time.perf_counter() - began)
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        created.append(r.json()["id"])

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        start_line.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    conn = sqlite3.connect(db)
    rows = [r[0] for r in conn.execute("select id from needs where instr(text, ?) > 0",
                                       [marker])]
    conn.close()
    return {"writes_s": len(created) / elapsed, "latencies": latencies, "statuses": statuses,
            "errors": errors, "exact": sorted(rows) == sorted(created), "elapsed": elapsed}


def main(db: Annotated[Path | None, typer.Option(help="an embedded exchange database "
                                                 "(default: the demo set, built now)")] = None,
         writers: Annotated[int, typer.Option(min=1)] = 10,
         writes: Annotated[int, typer.Option(min=1, help="creates per run, in all")] = 200,
         runs: Annotated[int, typer.Option(min=1)] = 3,
         source: Annotated[Path, typer.Option(help="the code to serve")] = ROOT) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        folder = Path(tmp)
        base = db if db is not None else demo_db(folder)
        results = []
        for n in range(runs):
            result = one_run(base, folder, source.resolve(), writers, writes)
            console.print(f"run {n + 1}: {result['writes_s']:.1f} writes/s "
                          f"({result['elapsed']:.1f} s), statuses {dict(result['statuses'])}")
            results.append(result)
    latencies = sorted(x for r in results for x in r["latencies"])

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 \
            if latencies else float("nan")

    statuses: Counter = Counter()
    for r in results:
        statuses.update(r["statuses"])
    table = Table(title=f"{writers} concurrent writers, {writes} creates per run, {runs} runs")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("writes/s (median of runs)",
                  f"{statistics.median(r['writes_s'] for r in results):.1f}")
    table.add_row("latency p50 / p99 (ms)", f"{pct(0.50):.0f} / {pct(0.99):.0f}")
    table.add_row("statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    table.add_row("connection errors", str(sum(len(r["errors"]) for r in results)))
    table.add_row("each 201 exactly one row", str(all(r["exact"] for r in results)))
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
