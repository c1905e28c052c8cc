"""Start-up of `matcher serve` over HTTP, from a corpus file that writes have made stale.

    python bench/startup.py [--db PATH] [--workers 1 --workers 2] [--writes 4] [--runs 3]
                            [--offerings 10000 --practices 10000 ...]
                            [--embedders NAMES] [--random-vectors e5-multilingual]

Builds or reuses the scale set db (bench/scale.py, imported and embedded as bench/latency.py
does), saves the corpus of its current data beside it (``Engine.save_corpus``, in a
subprocess; built first when the code changed), and serves a copy of it with that file
beside it, as a restart finds it, after ``--writes`` writes through the store (an offering
made inactive, then active again, ...: the file is then behind the data, and each worker
brings it up to date at start; 0: the file is current).
For each worker count, ``--runs`` times: spawns `matcher serve --workers N` and polls
``/health`` every 50 ms. Prints, from spawn: the first "ok", every worker's "ok" (30 in a
row, each on a new connection that any worker may take) and the first suggestion; medians
and each run, with the machine's load average.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
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
    offering_fields,
    prepared_scale_db,
    server_env,
)
from load import (  # noqa: E402
    READY_IN_A_ROW,
    _copy_db,
    _free_port,
    _get,
    _link_corpus,
    _load_average,
    _process,
)

console = Console(width=None if sys.stdout.isatty() else 120)
PATIENCE_S = 900  # a start that takes longer is reported as a failure, not waited for

# run in a subprocess: the corpus of the db's current data, saved beside it
WARM = ("from matcher.settings import load_settings\n"
        "from matcher.ranking.engine import Engine\n"
        "Engine(load_settings(), embed_on_build=False).save_corpus()\n")


def _write(db: Path, names: list[str], count: int) -> None:
    """``count`` writes (one offering made inactive, then active again, ...) through the
    store, as the API makes them; no corpus is read or built here."""
    from matcher.exchange import Offering
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    engine = Engine(load_settings(db=db, embedders=names), embed_on_build=False)
    row = next(o for p in engine.store.partners() for o in engine.store.offerings(p["id"]))
    fields = offering_fields(row)
    for i in range(count):
        fields["active"] = bool(row["active"]) if i % 2 else not row["active"]
        engine.update_record("offerings", Offering.model_validate(fields))
    engine.close()


def _start(served: Path, workers: int, env: dict[str, str], token: str, need_id: str,
           log: Path) -> dict[str, float]:
    """One start: seconds from spawn to the first "ok", to every worker's, and to the first
    suggestion."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    probe = f"{base}/api/v1/needs/{need_id}/suggestions"
    args = [sys.executable, "-m", "matcher", "serve", "--db", str(served), "--port", str(port),
            "--workers", str(workers)]
    found: dict[str, float] = {}
    with _process(args, env, log) as server:
        spawned = time.perf_counter()
        streak_began, in_a_row = 0.0, 0
        while len(found) < 3:
            now = time.perf_counter()
            if now - spawned > PATIENCE_S or server.poll() is not None:
                raise SystemExit(f"no start within {PATIENCE_S} s; see {log}")
            status, body = _get(f"{base}/health")
            ok = status == 200 and json.loads(body)["status"] == "ok"
            if ok:
                found.setdefault("first ok", now - spawned)
                if in_a_row == 0:
                    streak_began = now
                in_a_row += 1
                if in_a_row >= READY_IN_A_ROW:
                    found.setdefault("every worker ok", streak_began - spawned)
                if "first suggestion" not in found and _get(probe, token)[0] == 200:
                    found["first suggestion"] = time.perf_counter() - spawned
            else:
                in_a_row = 0
            time.sleep(0.02 if ok else 0.05)
    return found


def main(
    offerings: Offerings = 10_000,
    practices: Practices = 10_000,
    associations: Associations = 500,
    needs: Needs = 1_000,
    seed: int = 0,
    db: ScaleDb = None,
    embedders: Embedders = None,
    random_vectors: RandomVectors = None,
    workers: Annotated[list[int] | None, typer.Option(
        min=1, help="matcher serve --workers (repeatable; default 1 and 2)")] = None,
    writes: Annotated[int, typer.Option(
        min=0, help="writes after the corpus file was saved (0: the file is current)")] = 4,
    runs: Annotated[int, typer.Option(min=1, help="starts of each; medians shown")] = 3,
) -> None:
    """Time `matcher serve`'s start over HTTP from a stale corpus file."""
    from matcher.principals import Role
    from matcher.store import Store

    workers = workers or [1, 2]
    names = embedder_names(embedders)
    db, prep = prepared_scale_db(offerings, practices, associations, needs, seed, db, names,
                                 random_vectors)
    env = server_env(names, MATCHER_DB=str(db))
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", WARM], env=env, check=True)
    console.print(f"db {db} ({'reused' if prep.get('reused') else 'built'}); its corpus "
                  f"saved in {time.perf_counter() - began:.1f} s (built first when the code "
                  "changed)")

    work = Path(tempfile.mkdtemp(prefix="delve-startup-"))
    served = work / "served.db"
    _copy_db(db, served)
    _link_corpus(db, served)
    store = Store(served)
    _, token = store.create_token(Role.ADMIN, label="bench/startup.py")
    need_id = store.needs()[0]["id"]
    store.close()
    _write(served, names, writes)  # the token and these writes: the file is behind them
    env.pop("MATCHER_DB")

    results: dict[int, list[dict[str, float]]] = {n: [] for n in workers}
    for run in range(runs):
        for n in workers:  # alternating: a slower minute weighs on each alike
            results[n].append(_start(served, n, env, token, need_id,
                                     work / f"server-{n}-{run}.log"))
    load = _load_average()

    table = Table(title=f"matcher serve from a corpus file {writes} write(s) + a token behind "
                        f"the data; {runs} start(s) each: median (each run), seconds")
    for column in ("workers", "first /health ok", "every worker ok", "first suggestion"):
        table.add_column(column, justify="right")
    for n in workers:
        cells = []
        for what in ("first ok", "every worker ok", "first suggestion"):
            values = [r[what] for r in results[n]]
            cells.append(f"{statistics.median(values):.2f} ("
                         + ", ".join(f"{v:.2f}" for v in values) + ")")
        table.add_row(str(n), *cells)
    console.print(table)
    console.print(f"logs in {work}; load average at the end (1, 5, 15 min): {load}; "
                  f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    typer.run(main)
