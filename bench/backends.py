"""SQLite and PostgreSQL side by side: rankings, import speed, suggestion latency, corpus
build, the delay between servers and the vector read path.

    python bench/backends.py DEV_DIR [--pg URL] [--records 5000,20000]
                             [--vectors 20000,50000,100000] [--runs 3] [--needs 50] [--no-eval]

Without ``--pg`` a throwaway cluster is started (tests/postgres.py's ``throwaway_cluster``) and
removed at the end; with it, every database is created (and dropped) beside the one of URL.
The SQLite files live in a temporary folder. Per backend:

* eval: ``matcher eval DEV_DIR --db TARGET --run RUN`` as a subprocess; the two run files are
  compared byte for byte (exit 1 when they differ) and the printed figures shown;
* import: ``Store.import_exchange`` of the demo data replicated with new ids to N records
  (parsing and embedding not timed), records/s, median of ``--runs`` fresh databases;
* latency: an Engine over the eval's database: open + corpus build without a corpus file
  (cold) and with one, then partner and peer suggestions for ``--needs`` needs, p50/p99 after
  a warm-up pass (median of ``--runs`` passes);
* cross-server: a write through one ``Engine.for_server`` and the time until another one over
  the same database suggests it (median of ``--runs``);
* vectors: ``save_vectors`` and ``load_vectors`` (the corpus build's read path) of N random
  384-dim float32 vectors, median of ``--runs`` reads through a fresh store, as written and
  after ANALYZE (table statistics, which autovacuum gathers on PostgreSQL a while after a
  large write); and the exact numpy top 10 over N vectors that pgvector would stand in for.

Prints one table (figure, SQLite, PostgreSQL, PG/SQLite ratio of the same run) and the load
average before and after. Run on demand; not a test.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tests/postgres.py: the throwaway cluster

console = Console(width=None if sys.stdout.isatty() else 160)
BACKENDS = ("sqlite", "postgresql")
Rows = list[tuple[str, dict[str, float | str]]]  # (figure, {backend: value})


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class Targets:
    """New databases of both backends: SQLite files in ``folder``, PostgreSQL databases
    beside the one of ``pg_url`` (all dropped by :meth:`drop_all`)."""

    def __init__(self, folder: Path, pg_url: str):
        self.folder, self.pg_url, self.made = folder, pg_url, []

    def new(self, backend: str, label: str) -> str:
        if backend == "sqlite":
            return str(self.folder / f"{label}-{secrets.token_hex(4)}.db")
        from postgres import create_database
        from sqlalchemy.engine import make_url

        name = create_database(self.pg_url)
        self.made.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        from postgres import drop_database

        for name in self.made:
            drop_database(self.pg_url, name)


@contextmanager
def postgres(pg: str | None) -> Iterator[str]:
    """The URL of ``--pg``, or of the postgres database of a throwaway cluster."""
    if pg:
        yield pg
        return
    from postgres import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield cluster.url()


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


# ---------------------------------------------------------------------------- eval
def run_eval(folder: Path, target: str, run_file: Path) -> tuple[float, list[str]]:
    """``matcher eval`` as a user runs it: its wall time and the figures it printed."""
    begun = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "matcher", "eval", str(folder), "--db", target,
                           "--run", str(run_file)], capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - begun
    if done.returncode != 0:
        raise SystemExit(f"matcher eval failed on {target.split('?')[0]}: "
                         f"{done.stderr.strip().splitlines()[-1:]}")
    return took, [line for line in done.stdout.splitlines() if "nDCG" in line]


def first_difference(a: bytes, b: bytes) -> str | None:
    if a == b:
        return None
    lines_a, lines_b = a.decode().splitlines(), b.decode().splitlines()
    for number, (x, y) in enumerate(zip(lines_a, lines_b), 1):
        if x != y:
            return f"line {number}: sqlite {x.strip()!r} / postgresql {y.strip()!r}"
    return f"lengths differ: {len(lines_a)} / {len(lines_b)} lines"


# ---------------------------------------------------------------------------- import
def replicated(demo: dict, records: int) -> tuple[dict, int]:
    """The demo document copied with new ids (``-r<k>`` appended to every id) until it holds
    at least ``records`` records (partners, offerings, associations, needs, practices)."""
    def count(doc: dict) -> int:
        return (len(doc["partners"]) + sum(len(p.get("offerings", ())) for p in doc["partners"])
                + len(doc["associations"])
                + sum(len(a.get("needs", ())) + len(a.get("practices", ()))
                      for a in doc["associations"]))

    def renamed(record: dict, suffix: str) -> dict:
        record = copy.deepcopy(record)
        stack = [record]
        while stack:
            item = stack.pop()
            if "id" in item:
                item["id"] = f"{item['id']}-{suffix}"
            stack.extend(v for value in item.values() if isinstance(value, list)
                         for v in value if isinstance(v, dict) and "id" in v)
        return record

    per_copy = count(demo)
    copies = -(-records // per_copy)
    doc = {key: value for key, value in demo.items() if key not in ("partners", "associations")}
    doc["partners"] = [renamed(p, f"r{k}") for k in range(copies) for p in demo["partners"]]
    doc["associations"] = [renamed(a, f"r{k}") for k in range(copies)
                           for a in demo["associations"]]
    return doc, count(doc)


def import_rate(targets: Targets, backend: str, doc_raw: bytes, records: int, runs: int) -> float:
    from matcher.exchange import parse_document
    from matcher.reference import load_reference
    from matcher.settings import load_settings
    from matcher.store import Store

    ref = load_reference(load_settings().data_dir)

    def once() -> float:
        store = Store(targets.new(backend, "import"))
        try:
            doc = parse_document(doc_raw, ref)
            begun = time.perf_counter()
            report = store.import_exchange(doc)
            took = time.perf_counter() - begun
        finally:
            store.close()
        assert sum(report.inserted.values()) == records, report.inserted
        return took

    return records / median_of(runs, once)


# ---------------------------------------------------------------------------- latency
def open_and_build(target: str, keep_file: bool) -> float:
    """Seconds to open an engine over ``target`` and have its corpus ready; without
    ``keep_file`` its corpus file is removed first (the corpus is built)."""
    from matcher.ranking import corpus_cache
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    settings = load_settings(db=target)
    if not keep_file:
        shutil.rmtree(corpus_cache.cache_folder(settings.local_files()), ignore_errors=True)
    begun = time.perf_counter()
    engine = Engine(settings)
    engine.warm_up()
    took = time.perf_counter() - begun
    engine.close()
    return took


def latency(target: str, need_ids: list[str], runs: int) -> dict[str, float]:
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    figures: dict[str, float] = {}
    open_and_build(target, keep_file=False)  # models loaded, caches of the OS warm
    figures["open + corpus build, no corpus file (s)"] = median_of(
        runs, lambda: open_and_build(target, keep_file=False))
    figures["open + corpus from its file (s)"] = median_of(
        runs, lambda: open_and_build(target, keep_file=True))
    engine = Engine(load_settings(db=target))
    try:
        engine.warm_up()
        for kind in ("partner", "peer"):
            for need_id in need_ids:  # warm-up pass
                engine.suggest(need_id, kind, 10)
            p50s, p99s = [], []
            for _ in range(runs):
                times = []
                for need_id in need_ids:
                    begun = time.perf_counter()
                    engine.suggest(need_id, kind, 10)
                    times.append((time.perf_counter() - begun) * 1000)
                p50s.append(float(np.percentile(times, 50)))
                p99s.append(float(np.percentile(times, 99)))
            figures[f"{kind} suggest p50 (ms)"] = statistics.median(p50s)
            figures[f"{kind} suggest p99 (ms)"] = statistics.median(p99s)
    finally:
        engine.close()
    return figures


# ---------------------------------------------------------------------------- servers
def cross_server_delay(target: str, need_id: str, runs: int, bound_s: float = 120.0) -> float:
    """Median seconds from an offering's creation through one server's engine until the
    other's next suggestions for ``need_id`` hold it (that request pays the rebuild)."""
    from matcher.exchange import Offering
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    engines = [Engine.for_server(load_settings(db=target, scorer_budget_ms=600_000))
               for _ in range(2)]
    try:
        for engine in engines:
            engine.warm_up()
        a, b = engines
        need = a.store.get("needs", need_id)
        partner_id = a.store.db.value("select id from partners order by id limit 1")
        delays = []
        for _ in range(runs):
            offering = Offering(id=f"bench-o-{secrets.token_hex(4)}", title="Bench offering",
                                description=need["text"], category=need.get("category") or "ohs")
            a.create_record("offerings", offering, partner_id)
            written = time.perf_counter()
            while offering.id not in {s.item_id for s in
                                      b.suggest(need_id, "partner", 1000).suggestions}:
                if time.perf_counter() - written > bound_s:
                    raise SystemExit(f"the other server did not suggest {offering.id} "
                                     f"within {bound_s:.0f} s")
            delays.append(time.perf_counter() - written)
        return statistics.median(delays)
    finally:
        for engine in engines:
            engine.close()


# ---------------------------------------------------------------------------- vectors
def vector_rates(targets: Targets, backend: str, n: int, runs: int,
                 dim: int = 384) -> dict[str, float]:
    """Seconds to save ``n`` random vectors and (median of ``runs``, each through a new store)
    to read them back through ``load_vectors``, the corpus build's path."""
    from matcher.store import Store

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((n, dim), dtype=np.float32)
    hashes = [secrets.token_hex(16) for _ in range(n)]
    target = targets.new(backend, "vectors")
    store = Store(target)
    try:
        if store.db.postgresql:  # "as written": before autovacuum's ANALYZE, whenever it comes
            store.db.execute("alter table vectors set (autovacuum_enabled = false)")
        begun = time.perf_counter()
        store.save_vectors("bench", hashes, matrix, model="random")
        saved = time.perf_counter() - begun
    finally:
        store.close()

    def read() -> float:
        reader = Store(target)
        try:
            begun = time.perf_counter()
            loaded = reader.load_vectors("bench", hashes)
            took = time.perf_counter() - begun
        finally:
            reader.close()
        assert np.array_equal(loaded, matrix)
        return took

    figures = {f"vectors {n:,}: save (s)": saved,
               f"vectors {n:,}: load_vectors, as written (s)": median_of(runs, read)}
    store = Store(target)
    try:  # what autovacuum does on PostgreSQL within a minute or so of the write
        if store.db.postgresql:
            store.db.execute("alter table vectors reset (autovacuum_enabled)")
        store.db.execute("analyze vectors")
    finally:
        store.close()
    figures[f"vectors {n:,}: load_vectors after ANALYZE (s)"] = median_of(runs, read)
    return figures


def exact_top10_ms(n: int, dim: int = 384, repeat: int = 30) -> float:
    """Median ms of an exact top 10 by dot product over ``n`` vectors in numpy (one thread):
    the work an approximate index in the database (pgvector) would stand in for."""
    rng = np.random.default_rng(1)
    matrix, query = (rng.standard_normal((n, dim), dtype=np.float32),
                     rng.standard_normal(dim, dtype=np.float32))
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        scores = matrix @ query
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]
        times.append((time.perf_counter() - begun) * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------------------- main
def show(rows: Rows, title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("figure", no_wrap=True)
    for column in ("SQLite", "PostgreSQL", "PG/SQLite"):
        table.add_column(column, justify="right")
    for figure, values in rows:
        sq, pg = values.get("sqlite"), values.get("postgresql")
        ratio = (f"{pg / sq:.2f}" if isinstance(sq, float) and isinstance(pg, float) and sq
                 else "")
        table.add_row(figure, *(v if isinstance(v, str) else f"{v:,.3g}" if v < 1000
                                else f"{v:,.0f}" for v in (sq, pg)), ratio)
    console.print(table)


def main(
    folder: Annotated[Path, typer.Argument(help="benchmark folder with dataset.json and "
                                                "qrels.json (e.g. ../shared/bench/dev)")],
    pg: Annotated[str | None, typer.Option(help="a PostgreSQL URL allowed to create "
                                                "databases; default: a throwaway cluster")] = None,
    records: Annotated[str, typer.Option(help="import sizes, comma-separated")] = "5000,20000",
    vectors: Annotated[str, typer.Option(help="vector counts, comma-separated")] =
        "20000,50000,100000",
    runs: Annotated[int, typer.Option(min=1, help="runs per figure (median)")] = 3,
    needs: Annotated[int, typer.Option(min=1, help="needs asked for suggestions")] = 50,
    eval_: Annotated[bool, typer.Option("--eval/--no-eval", help="run matcher eval (and the "
                                        "latency and cross-server figures on its database)")]
        = True,
) -> None:
    """Rankings, import, latency, cross-server delay and vector reads on both backends."""
    if not (folder / "dataset.json").is_file() or not (folder / "qrels.json").is_file():
        raise SystemExit(f"no dataset.json and qrels.json in {folder}")
    console.print(f"start: {uptime()}  ({os.cpu_count()} CPUs)")
    work = Path(tempfile.mkdtemp(prefix="matcher-backends-"))
    os.environ["MATCHER_STATE_DIR"] = str(work / "state")  # the PostgreSQL corpus files
    rows: Rows = []
    identical = True
    try:
        with postgres(pg) as pg_url:
            targets = Targets(work, pg_url)
            try:
                if eval_:
                    identical = eval_part(folder, targets, work, runs, needs, rows)
                for n in (int(x) for x in records.split(",") if x.strip()):
                    doc, count = replicated(json.loads((ROOT / "data/demo.json").read_text()), n)
                    raw = json.dumps(doc).encode()
                    rows.append((f"import {count:,} records (records/s)",
                                 {b: import_rate(targets, b, raw, count, runs)
                                  for b in BACKENDS}))
                for n in (int(x) for x in vectors.split(",") if x.strip()):
                    measured = {b: vector_rates(targets, b, n, runs) for b in BACKENDS}
                    for figure in measured["sqlite"]:
                        rows.append((figure, {b: measured[b][figure] for b in BACKENDS}))
            finally:
                targets.drop_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    show(rows, f"SQLite and PostgreSQL — medians of {runs} runs, same machine, same run")
    for n in (int(x) for x in vectors.split(",") if x.strip()):
        console.print(f"exact top 10 over {n:,} x 384 float32 in numpy, one thread: "
                      f"{exact_top10_ms(n):.1f} ms (either backend)")
    console.print(f"end: {uptime()}")
    if not identical:
        raise SystemExit(1)


def eval_part(folder: Path, targets: Targets, work: Path, runs: int, needs: int,
              rows: Rows) -> bool:
    """matcher eval on both backends, then latency and cross-server on its databases;
    whether the run files are identical."""
    dataset = json.loads((folder / "dataset.json").read_text())
    need_ids = [n["id"] for a in dataset["associations"] for n in a["needs"]]
    evaluated: dict[str, str] = {}
    took: dict[str, float | str] = {}
    for backend in BACKENDS:
        evaluated[backend] = targets.new(backend, "eval")
        took[backend], figures = run_eval(folder, evaluated[backend], work / f"run-{backend}.json")
        console.print(f"matcher eval on {backend}:")
        for line in figures:
            console.print(f"  {line}", highlight=False)
    rows.append(("matcher eval, wall incl. model loads + embedding (s)", took))
    difference = first_difference((work / "run-sqlite.json").read_bytes(),
                                  (work / "run-postgresql.json").read_bytes())
    console.print(f"run files: {'IDENTICAL' if difference is None else 'DIFFER, ' + difference}",
                  highlight=False)
    per_backend = {b: latency(evaluated[b], need_ids[:needs], runs) for b in BACKENDS}
    for figure in per_backend["sqlite"]:
        rows.append((figure, {b: per_backend[b][figure] for b in BACKENDS}))
    rows.append(("cross-server: write to suggested by the other (s)",
                 {b: cross_server_delay(evaluated[b], need_ids[0], runs) for b in BACKENDS}))
    return difference is None


if __name__ == "__main__":
    typer.run(main)
