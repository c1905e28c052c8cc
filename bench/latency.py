"""In-process suggestion latency on a synthetic scale set (default 10k offerings + 10k practices).

    python bench/latency.py [--offerings 10000] [--practices 10000] [--db PATH] [--repeat 200]
                            [--embedders use-multilingual,minilm] [--all-scorers] [--profile]
                            [--rss] [--no-startup] [--writes 3]
                            [--random-vectors e5-multilingual]

Builds the scale set (bench/scale.py), imports it into a SQLite file and embeds it (the file is
reused on the next run when it was built from the same document and embedders), builds the
corpus (from the store, then from its file next to the db, then in a new process, then
after a few writes), warms up, then times ``Engine.suggest(need_id, kind, 10)`` over many different needs
with the model loaded and every need already embedded. Prints p50/p95/p99/max per kind, the time
of each stage (filters, each scorer, fusion, explanations) measured by running the same stages
directly, and the corpus build time. ``--profile`` adds cProfile listings of the corpus build
and of the suggestion loop (scorer threads included).
"""

from __future__ import annotations

import cProfile
import hashlib
import inspect
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import build_scale_set

TARGET_P50_MS = 10.0
TARGET_P99_MS = 40.0
KINDS = ("partner", "peer")
EXTRA_WEIGHT = 0.05  # --all-scorers: weight given to scorers whose default weight is 0

console = Console(width=None if sys.stdout.isatty() else 120)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def _rss() -> dict[str, float]:
    """Resident memory of this process now, MB: total, anonymous, file-backed (mapped)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss": fields.get("VmRSS", float("nan")), "anon": fields.get("RssAnon", float("nan")),
            "file": fields.get("RssFile", float("nan")), "peak": fields.get("VmHWM", float("nan"))}


_STARTUP = """
import json, sys, time
start = time.perf_counter()
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
imported = time.perf_counter() - start
engine = Engine.for_server(load_settings(db=sys.argv[1], embedders=sys.argv[2].split(",")))
corpus = engine.warm_up()
ready = time.perf_counter() - start
need = sorted(corpus.needs)[0]
start = time.perf_counter()
engine.suggest(need, "partner", 10)
first = time.perf_counter() - start
start = time.perf_counter()
engine.embedding_status()
health = time.perf_counter() - start
sys.path.insert(0, sys.argv[3])
from latency import _rss
print(json.dumps({"ready_s": ready, "import_s": imported, "first_ms": first * 1000,
                  "health_s": health, **_rss()}))
"""


def server_env(names: list[str], **extra: str) -> dict[str, str]:
    """The environment a bench starts a server or a new process in: these embedders, one
    thread per model and BLAS, no hub, and Python's bytecode cache on, as an installed server
    has it (a shell's PYTHONDONTWRITEBYTECODE=1 would compile the project's modules at every
    start: about 0.2 s more)."""
    env = dict(os.environ, MATCHER_EMBEDDERS=json.dumps(names), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _startup(db: Path, names: list[str]) -> dict:
    """A new process as a server starts: import, Engine, warm_up (the corpus from its file),
    one suggestion, then the count of texts still to embed that its first /health makes."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _STARTUP, str(db), ",".join(names),
                          str(Path(__file__).resolve().parent)],
                         capture_output=True, text=True, check=True, env=server_env(names))
    return json.loads(out.stdout.strip().splitlines()[-1])


# The scale set's options, as each bench that builds or reuses its db takes them.
Offerings = Annotated[int, typer.Option(min=1)]
Practices = Annotated[int, typer.Option(min=1)]
Associations = Annotated[int, typer.Option(min=2)]
Needs = Annotated[int, typer.Option(min=1)]
ScaleDb = Annotated[Path | None, typer.Option(help="the scale set's SQLite file (default: "
                                                   "bench/latency.py's, built if missing)")]
Embedders = Annotated[str | None, typer.Option(
    help="comma-separated embedders (default: the settings')")]
RandomVectors = Annotated[str | None, typer.Option(
    help="comma-separated embedders given random unit vectors instead of embedding "
         "(timing only; as bench/latency.py)")]


def scale_db_path(offerings: int, practices: int, associations: int, needs: int, seed: int,
                  names: list[str], random_vectors: str | None) -> Path:
    """The default file of a scale set's db, named after what it is built from (shared by
    the benches that use the scale set, so each reuses the others' db)."""
    return Path(tempfile.gettempdir()) / (
        f"delve-bench-scale-{offerings}o-{practices}p-{associations}a-{needs}n-s{seed}"
        f"-{'+'.join(names)}{'-random-' + random_vectors if random_vectors else ''}.db")


def embedder_names(embedders: str | None) -> list[str]:
    """The comma-separated ``embedders``, or the settings' when none are given."""
    from matcher.settings import load_settings

    return [n.strip() for n in embedders.split(",")] if embedders else \
        list(load_settings().embedders)


def offering_fields(row: dict) -> dict:
    """An offering's stored ``row`` as the fields of an ``Offering`` to write back."""
    from matcher.exchange import Offering

    fields = {name: row[name] for name in Offering.model_fields if name in row}
    fields["eligibility"] = {k: row[k] for k in ("women_led_only", "min_members",
                                                 "requires_formal_license")}
    return fields


def _rebuilds(engine, count: int) -> list[tuple[float, float]]:
    """``count`` writes (one offering made inactive, then active again, ...), each timed, and
    the corpus rebuild each causes; the offering is left as it was."""
    from matcher.exchange import Offering

    offering_id = engine.corpus().offerings.ids[0]
    row = engine.store.get("offerings", offering_id)
    fields = offering_fields(row)
    out = []
    for i in range(count + count % 2):  # an even count: the offering ends as it began
        fields["active"] = bool(row["active"]) if i % 2 else not row["active"]
        start = time.perf_counter()
        engine.update_record("offerings", Offering.model_validate(fields))
        written = time.perf_counter()
        engine.corpus()
        out.append((written - start, time.perf_counter() - written))
    return out[:count] if count else out


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def prepare_db(db: Path, doc_text: str, embedders: list[str], rebuild: bool,
               random_vectors: list[str] | None = None) -> dict:
    """Import and embed the scale set into ``db`` unless it already holds exactly that.
    ``random_vectors``: embedders whose vectors are random unit vectors of the model's
    dimension, one per text (seeded by the text), stored under the model's id: for timing
    only, where embedding for real would take too long (e5: about 30 minutes at 10k)."""
    from matcher.exchange import parse_document
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    fingerprint = hashlib.sha256(doc_text.encode("utf-8")).hexdigest()
    sidecar = Path(str(db) + ".bench.json")
    wanted = {"document_sha256": fingerprint, "embedders": embedders}
    if random_vectors:
        wanted["random_vectors"] = sorted(random_vectors)
    figures: dict = {}
    if db.exists():
        known = json.loads(sidecar.read_text()) if sidecar.exists() else None
        if known == wanted and not rebuild:
            figures["reused"] = True
        elif known is not None or rebuild:
            _remove_db(db)
        else:
            raise SystemExit(f"{db} exists and was not built by this benchmark "
                             f"(no {sidecar.name}); pass --rebuild to overwrite it")
    engine = Engine(load_settings(db=db, embedders=embedders))
    if not figures.get("reused"):
        sidecar.unlink(missing_ok=True)
        start = time.perf_counter()
        doc = parse_document(doc_text, engine.ref)
        figures["parse_s"] = time.perf_counter() - start
        start = time.perf_counter()
        report = engine.store.import_exchange(doc)
        figures["import_s"] = time.perf_counter() - start
        figures["records"] = sum(report.inserted.values())
        for embedder in engine.embedders.values():
            embedder.embed("load the model before timing")
    for name in random_vectors or ():
        _random_stand_in(engine.embedders[name])
    start = time.perf_counter()
    figures["embedded"] = engine.sync_embeddings(progress=True)
    figures["embed_s"] = time.perf_counter() - start
    sidecar.write_text(json.dumps(wanted))
    engine.store.close()
    return figures


def prepared_scale_db(offerings: int, practices: int, associations: int, needs: int,
                      seed: int, db: Path | None, names: list[str],
                      random_vectors: str | None) -> tuple[Path, dict]:
    """The scale set's db (``db``, or the default file named after what it is built from),
    imported and embedded unless it already holds exactly that (:func:`prepare_db`); and
    :func:`prepare_db`'s figures."""
    db = db or scale_db_path(offerings, practices, associations, needs, seed, names,
                             random_vectors)
    doc_text = json.dumps(build_scale_set(offerings, practices, associations, needs, seed),
                          ensure_ascii=False)
    randoms = [n.strip() for n in random_vectors.split(",")] if random_vectors else []
    return db, prepare_db(db, doc_text, names, rebuild=False, random_vectors=randoms)


def _random_stand_in(embedder) -> None:
    """Make ``embedder`` return a random unit vector per text (seeded by the text), of its
    model's dimension, instead of running the model."""
    dim = embedder.embed("the model's dimension").shape[0]

    def embed_batch(texts):
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            out[i] = np.random.default_rng(seed).standard_normal(dim, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embedder.embed_batch = embed_batch


class StageTimer:
    """Runs the stages of ``Engine.suggest`` one by one (same functions) and times each."""

    def __init__(self, engine, weights_override: dict[str, dict[str, float]]):
        from matcher.ranking import engine as engine_module

        self.engine = engine
        self.module = engine_module
        self.weights_override = weights_override
        self.missing: list[str] = []
        for name in ("_diversify", "_PREPARE_FAILED"):
            if not hasattr(engine_module, name):
                self.missing.append(name)

    def candidates(self, need_id: str, kind: str) -> int:
        """How many candidates pass the hard filters for this need (as suggest computes it)."""
        from matcher.ranking import filters

        engine = self.engine
        corpus, query = engine.corpus(), engine.query(need_id)
        rules = _call(filters.rules_for, corpus, kind, query.association,
                      *_rule_facts(engine.store, need_id, kind))
        return len(filters.allowed(rules))

    def run(self, need_id: str, kind: str, limit: int) -> tuple[dict[str, float], int]:
        from matcher.ranking import filters
        from matcher.ranking.fusion import fuse
        from matcher.ranking.scoring import ScoringContext, run_scorers

        engine, out = self.engine, {}
        t0 = time.perf_counter()
        corpus = engine.corpus()
        query = engine.query(need_id)
        t1 = time.perf_counter()
        out["corpus check + query"] = _ms(t1 - t0)
        block = corpus.block(kind)
        facts = _rule_facts(engine.store, need_id, kind)
        t_sql = time.perf_counter()
        out["store: the hard rules' facts (SQL)"] = _ms(t_sql - t1)
        rules = _call(filters.rules_for, corpus, kind, query.association, *facts)
        candidates = filters.allowed(rules)
        t2 = time.perf_counter()
        out["hard filters"] = _ms(t2 - t_sql)
        table = engine.weights_for(kind, self.weights_override.get(kind))
        failed_marker = getattr(self.module, "_PREPARE_FAILED", None)
        active = {name: r.scorer for name, r in engine.scorers().items()
                  if kind in r.scorer.kinds and table.get(name, 0.0) != 0.0
                  and block.state.get(name) is not failed_marker}
        t3 = time.perf_counter()
        out["collect scorers"] = _ms(t3 - t2)
        ctx = ScoringContext(corpus, kind, query, candidates,
                             threads=engine.settings.scoring_threads)
        if not len(candidates):
            return out, 0
        run = run_scorers(active, ctx, engine.settings.scorer_budget_ms)
        t4 = time.perf_counter()
        out["run_scorers (pool, wall)"] = _ms(t4 - t3)
        for name, ms in run.timings_ms.items():
            out[f"  score: {name} (in pool)"] = ms
        for name, scorer in active.items():  # the same scorers alone, in this thread
            start = time.perf_counter()
            scorer.score(ctx)
            out[f"  score: {name} (alone)"] = _ms(time.perf_counter() - start)
        t5 = time.perf_counter()
        total, contributions = _call(fuse, run.scores, active, table, len(candidates))
        t6 = time.perf_counter()
        out["fuse"] = _ms(t6 - t5)
        if "_diversify" in self.missing:
            chosen = [int(p) for p in np.argsort(-total, kind="stable")[:limit]]
        else:
            chosen = self.module._diversify(total, candidates, block, kind, limit,
                                            engine.settings.max_per_partner)
        t7 = time.perf_counter()
        out["diversify / top-k"] = _ms(t7 - t6)
        for name, scorer in active.items():
            if name in run.scores:
                start = time.perf_counter()
                scorer.reasons(ctx, chosen, run.scores[name])
                out[f"  reasons: {name}"] = _ms(time.perf_counter() - start)
        t8 = time.perf_counter()
        out["reasons (all scorers)"] = _ms(t8 - t7)
        if hasattr(engine, "_explain"):  # the whole explanation step, scorer reasons included
            start = time.perf_counter()
            engine._explain(ctx, chosen, total, contributions, run.scores, active, rules)
            out["_explain (whole step)"] = _ms(time.perf_counter() - start)
        return out, len(candidates)


def _rule_facts(store, need_id: str, kind: str) -> tuple:
    """The store's facts for the hard rules: capacity used, rejected and not-interested
    items (one read where the store offers it; the older code's reads otherwise)."""
    if hasattr(store, "rule_facts"):
        return store.rule_facts(need_id, kind)
    return (store.capacity_used() if kind == "partner" else None,
            store.rejected_items(need_id, kind), store.not_interested_items(need_id, kind))


def _call(function, *args):
    """Call an engine function with as many leading arguments as its signature takes (the
    engine evolves; the benchmark should follow it, not break)."""
    params = inspect.signature(function).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return function(*args)
    return function(*args[:len(params)])


def _weights(engine, all_scorers: bool) -> dict[str, dict[str, float]]:
    if not all_scorers:
        return {}
    override: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        table = engine.weights_for(kind)
        override[kind] = {name: EXTRA_WEIGHT for name, r in engine.scorers().items()
                          if kind in r.scorer.kinds and table.get(name, 0.0) == 0.0}
    return override


def _profiled_loop(engine, ids: list[str], kind: str, limit: int, weights, top: int) -> str:
    """cProfile of suggest() in this thread plus every scorer call in the pool threads."""
    from matcher.ranking import scoring

    original = scoring._timed
    worker_profiles: list[cProfile.Profile] = []

    def profiled(scorer, ctx):
        prof = cProfile.Profile()
        prof.enable()
        try:
            return original(scorer, ctx)
        finally:
            prof.disable()
            worker_profiles.append(prof)

    main = cProfile.Profile()
    scoring._timed = profiled
    try:
        main.enable()
        for need_id in ids:
            engine.suggest(need_id, kind, limit, weights.get(kind))
        main.disable()
    finally:
        scoring._timed = original
    stats = pstats.Stats(main)
    for prof in worker_profiles:
        stats.add(prof)
    return _format_stats(stats, top, f"{kind}: {len(ids)} suggest() calls, main + scorer threads")


def _format_stats(stats: pstats.Stats, top: int, title: str) -> str:
    buffer = io.StringIO()
    stats.stream = buffer
    stats.strip_dirs()
    buffer.write(f"\n=== {title}: by own time (tottime) ===\n")
    stats.sort_stats("tottime").print_stats(top)
    buffer.write(f"\n=== {title}: by cumulative time ===\n")
    stats.sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue()
    # keep the listing compact: drop pstats' preamble lines
    return "\n".join(line for line in text.splitlines()
                     if line.strip() and not line.startswith("   Ordered by")
                     and "List reduced" not in line)


def main(
    offerings: Offerings = 10_000,
    practices: Practices = 10_000,
    associations: Associations = 500,
    needs: Needs = 1_000,
    seed: int = 0,
    db: Annotated[Path | None, typer.Option(help="SQLite file (default: in the temp dir, "
                                                    "named after the parameters)")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="timed suggest() calls per kind")] = 200,
    warmup: Annotated[int, typer.Option(min=0, help="untimed calls per kind first")] = 20,
    limit: Annotated[int, typer.Option(min=1)] = 10,
    embedders: Annotated[str | None, typer.Option(
        help="comma-separated embedders to keep vectors for (default: the settings')")] = None,
    all_scorers: Annotated[bool, typer.Option(
        help=f"give every scorer with default weight 0 the weight {EXTRA_WEIGHT}")] = False,
    profile: Annotated[bool, typer.Option(help="print cProfile listings")] = False,
    profile_top: Annotated[int, typer.Option(help="rows per cProfile listing")] = 25,
    rebuild: Annotated[bool, typer.Option(help="rebuild the db even if it matches")] = False,
    random_vectors: Annotated[str | None, typer.Option(
        help="comma-separated embedders given random unit vectors instead of embedding "
             "(timing only; e5 takes about 30 minutes at 10k)")] = None,
    rss: Annotated[bool, typer.Option(help="report resident memory (this process, and a new "
                                           "process started from the corpus file)")] = False,
    startup_check: Annotated[bool, typer.Option(
        "--startup/--no-startup", help="time a new process: import, engine, warm_up, first suggestion")]
        = True,
    writes: Annotated[int, typer.Option(
        min=0, help="writes (an offering deactivated, then active again), each timed with "
                    "the corpus rebuild it causes")] = 3,
) -> None:
    """Time Engine.suggest for partner and peer suggestions on a synthetic scale set."""
    from matcher.ranking.engine import Engine
    from matcher.settings import load_settings

    names = embedder_names(embedders)
    if db is None:
        db = scale_db_path(offerings, practices, associations, needs, seed, names,
                           random_vectors)

    start = time.perf_counter()
    doc = build_scale_set(offerings, practices, associations, needs, seed)
    doc_text = json.dumps(doc, ensure_ascii=False)
    generated_s = time.perf_counter() - start
    console.print(f"scale set: {offerings:,} offerings, {practices:,} practices, "
                  f"{associations:,} associations, {needs:,} needs (seed {seed}); db {db}")
    randoms = [n.strip() for n in random_vectors.split(",")] if random_vectors else []
    prep = prepare_db(db, doc_text, names, rebuild, randoms)

    from matcher.ranking import corpus_cache

    # the corpus, three ways in the same run: built from the store (the file next to the db
    # is not read), read back from that file by a new engine, and in a new process (start-up)
    folder = corpus_cache.cache_folder(db)
    cold = Engine(load_settings(db=db, embedders=names))
    for name in ("glossary", "embedders", "_cache_parts"):
        getattr(cold, name)  # settled before timing, as a server's would be
    build_profile = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if build_profile:
        build_profile.enable()
    built, tokens = cold._build_corpus()
    if build_profile:
        build_profile.disable()
    corpus_s = time.perf_counter() - start
    start = time.perf_counter()
    saved = corpus_cache.save(folder, cold._cache_key(tokens), built)
    save_s = time.perf_counter() - start
    file_mb = saved.stat().st_size / 1e6 if saved else float("nan")
    del built, cold
    startup = _startup(db, names) if rss or startup_check else None

    # as a server holds it: every text is embedded already, so a write is embedded inline and
    # the corpus is then brought up to date (no sweep over every text for missing vectors)
    engine = Engine(load_settings(db=db, embedders=names), embed_on_build=False)
    for embedder in engine.embedders.values():
        embedder.embed("warm up the model")
    rss_models = _rss()
    start = time.perf_counter()
    corpus = engine.warm_up()
    load_s = time.perf_counter() - start
    rss_loaded = _rss()
    start = time.perf_counter()
    engine.corpus()
    cached_corpus_ms = _ms(time.perf_counter() - start)
    rebuilds = _rebuilds(engine, writes) if writes else []
    corpus = engine.corpus()

    weights = _weights(engine, all_scorers)
    need_ids = sorted(corpus.needs)
    random.Random(seed).shuffle(need_ids)
    pools = {}
    offset = warmup
    for kind in KINDS:  # different needs for warm-up, partner and peer where there are enough
        pools[kind] = [need_ids[(offset + i) % len(need_ids)] for i in range(repeat)]
        offset += repeat
    for need_id in need_ids[:warmup]:
        for kind in KINDS:
            engine.suggest(need_id, kind, limit, weights.get(kind))

    latencies: dict[str, list[float]] = {}
    failures: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        times, failed = [], {}
        for need_id in pools[kind]:
            start = time.perf_counter()
            result = engine.suggest(need_id, kind, limit, weights.get(kind))
            times.append(_ms(time.perf_counter() - start))
            for name in result.failed_scorers:
                failed[name] = failed.get(name, 0) + 1
        latencies[kind], failures[kind] = times, failed

    timer = StageTimer(engine, weights)
    candidates = {kind: [timer.candidates(need_id, kind) for need_id in pools[kind]]
                  for kind in KINDS}

    # ------------------------------------------------------------------ report
    setup = Table(title="setup", title_justify="left")
    setup.add_column("step")
    setup.add_column("figure", justify="right")
    setup.add_row("generate scale set", f"{generated_s:.1f} s")
    if prep.get("reused"):
        setup.add_row("import", "reused existing db")
    else:
        setup.add_row("parse_document", f"{prep['parse_s']:.1f} s")
        setup.add_row("import_exchange", f"{prep['import_s']:.1f} s "
                      f"({prep['records'] / prep['import_s']:,.0f} records/s)")
    rate = (f" ({prep['embedded'] / prep['embed_s']:,.0f} texts/s)"
            if prep["embedded"] else "")
    setup.add_row("sync_embeddings", f"{prep['embedded']:,} texts in {prep['embed_s']:.1f} s{rate}")
    setup.add_row("corpus build from the store (cold, no corpus file)", f"{corpus_s:.2f} s")
    setup.add_row("corpus file: save (pickle, checksum, write, fsync, rename)",
                  f"{save_s:.2f} s ({file_mb:,.0f} MB)")
    setup.add_row("corpus from the file (new engine, warm_up())",
                  f"{load_s:.2f} s ({corpus_s / load_s:.0f}× faster than the build)")
    for i, (write_s, rebuild_s) in enumerate(rebuilds, 1):
        setup.add_row(f"write {i} (update_record), then the corpus update it causes",
                      f"write {write_s:.2f} s, update {rebuild_s:.2f} s")
    if startup:
        setup.add_row("new process: import + Engine + warm_up (from the file)",
                      f"{startup['ready_s']:.2f} s (of which imports "
                      f"{startup['import_s']:.2f} s)")
        setup.add_row("new process: first suggestion after that", f"{startup['first_ms']:.1f} ms")
        setup.add_row("new process: its first /health count of texts to embed",
                      f"{startup['health_s']:.2f} s")
    setup.add_row("engine.corpus() when current", f"{cached_corpus_ms:.3f} ms")
    if rss:
        setup.add_row("RSS here: models loaded / corpus loaded / after the loop (MB)",
                      f"{rss_models['rss']:,.0f} / {rss_loaded['rss']:,.0f} / "
                      f"{_rss()['rss']:,.0f}")
        setup.add_row("  of which mapped file pages (shared by workers), after the loop",
                      f"{_rss()['file']:,.0f} MB")
        if startup:
            setup.add_row("RSS of a new process after warm_up + 1 suggestion: total / anon / "
                          "file-backed (MB)", f"{startup['rss']:,.0f} / {startup['anon']:,.0f}"
                          f" / {startup['file']:,.0f}")
    setup.add_row("embedders / threads", f"{', '.join(names)} / {engine.settings.threads}")
    setup.add_row("OPENBLAS / OMP threads", f"{os.environ.get('OPENBLAS_NUM_THREADS')} / "
                                            f"{os.environ.get('OMP_NUM_THREADS')}")
    console.print(setup)

    lat = Table(title=f"Engine.suggest(need, kind, {limit}) latency, ms "
                      f"({repeat} different needs per kind, after {warmup} warm-up needs)",
                title_justify="left")
    for col in ("kind", "n", "candidates p50", "p50", "p95", "p99", "max", "mean"):
        lat.add_column(col, justify="right" if col != "kind" else "left")
    for kind in KINDS:
        t = latencies[kind]
        lat.add_row(kind, str(len(t)), f"{_pct(candidates[kind], 50):,.0f}",
                    *(f"{_pct(t, q):.2f}" for q in (50, 95, 99)), f"{max(t):.2f}",
                    f"{float(np.mean(t)):.2f}")
    console.print(lat)
    p50, p99 = _pct(latencies["partner"], 50), _pct(latencies["partner"], 99)
    ok = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
    console.print(f"target (partner): p50 ≤ {TARGET_P50_MS:g} ms and p99 ≤ {TARGET_P99_MS:g} ms: "
                  f"{'[green]met[/]' if ok else '[bold red]NOT met[/]'} "
                  f"(p50 {p50:.2f} = {p50 / TARGET_P50_MS:.2f}× target, "
                  f"p99 {p99:.2f} = {p99 / TARGET_P99_MS:.2f}× target)")
    for kind in KINDS:
        if failures[kind]:
            console.print(f"[yellow]{kind}: scorers left out: {failures[kind]}[/]")
    if timer.missing:
        console.print(f"[yellow]engine has no {', '.join(timer.missing)}; "
                      "stage timing approximates it[/]")

    stages: dict[str, dict[str, list[float]]] = {kind: {} for kind in KINDS}
    try:
        for kind in KINDS:
            for need_id in pools[kind]:
                figures, _ = timer.run(need_id, kind, limit)
                for stage, ms in figures.items():
                    stages[kind].setdefault(stage, []).append(ms)
    except (TypeError, AttributeError, KeyError, ValueError, LookupError) as exc:  # changed
        console.print(f"[yellow]stage timing failed ({type(exc).__name__}: {exc}); "
                      "bench/latency.py StageTimer needs updating to the engine[/]")
    st = Table(title="stages, run one by one with the engine's functions (median / p95 ms)",
               title_justify="left")
    st.add_column("stage")
    for kind in KINDS:
        st.add_column(f"{kind} p50", justify="right")
        st.add_column(f"{kind} p95", justify="right")
    stage_names = list(dict.fromkeys(s for kind in KINDS for s in stages[kind]))
    for stage in stage_names:
        cells = []
        for kind in KINDS:
            values = stages[kind].get(stage)
            cells += [f"{_pct(values, 50):.3f}", f"{_pct(values, 95):.3f}"] if values \
                else ["—", "—"]
        st.add_row(stage, *cells)
    console.print(st)
    weights_note = (f"; --all-scorers: zero-weight scorers at {EXTRA_WEIGHT}: "
                    f"{ {k: sorted(v) for k, v in weights.items()} }" if weights else "")
    console.print(f"scorers: default weights from settings{weights_note}. "
                  "'in pool' = timings_ms of run_scorers (threads, concurrent); "
                  "'alone' = the same call in this thread.")

    if profile:
        stats = pstats.Stats(build_profile)
        console.print(_format_stats(stats, profile_top, "corpus build"), markup=False,
                      highlight=False)
        for kind in KINDS:
            console.print(_profiled_loop(engine, pools[kind], kind, limit, weights, profile_top),
                          markup=False, highlight=False)


if __name__ == "__main__":
    typer.run(main)
