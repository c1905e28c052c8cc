"""The ``matcher`` command line."""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from matcher.errors import MatcherError
from matcher.settings import Settings, every_core, load_settings

if TYPE_CHECKING:
    from matcher.accounts.users import Scope
    from matcher.store import Store

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="delve-matcher: partners and peers for ASM associations' needs.")

DbOption = Annotated[Optional[str], typer.Option(
    "--db", help="the database: a SQLite file, or a postgresql:// URL")]
KindOption = Annotated[str, typer.Option("--kind", help="partner or peer")]


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def _load_set(db: str | Path | None, dataset: dict):
    """An engine over ``db`` with a benchmark's dataset imported and embedded, and the ids
    of its needs; exits with one line when the set does not import."""
    from matcher.exchange import parse_document

    engine = _engine(db, create=True, batch=True)
    try:
        with _steps() as step:
            records = sum(len(dataset.get(key) or ()) for key in ("associations", "partners"))
            step("import", 0, records)
            engine.store.import_exchange(parse_document(dataset, engine.ref))
            step("import", records, records)
    except MatcherError as exc:
        _fail(f"the set does not import: {exc}")
    _embed(engine)
    return engine, [n["id"] for a in dataset["associations"] for n in a["needs"]]


def _settings(db: str | Path | None, create: bool = False) -> Settings:
    """The settings for ``--db``; unless ``create``, exits with one line when the database
    does not exist (only ``import``, ``eval``, ``calibrate`` and ``serve --demo`` make one).
    A PostgreSQL database exists when it answers: one that does not is refused whatever
    ``create`` says, with the reason (never the password)."""
    settings = load_settings(db=db)
    if settings.db_is_url:
        _check_reachable(settings.db)
    elif not create and not settings.db.is_file():
        _fail(f"no database at {settings.db}; create one with "
              f"`matcher import FILE --db {settings.db}`")
    elif not settings.db.parent.is_dir():
        _fail(f"no folder {settings.db.parent} to create the database {settings.db.name} in")
    return settings


def _check_reachable(url: str) -> None:
    """Exit with one line unless the PostgreSQL database at ``url`` answers."""
    from matcher.db_target import redacted
    from matcher.store.probe import unreachable

    reason = unreachable(url)
    if reason:
        _fail(f"cannot reach the database {redacted(url)}: {reason}")


def _engine(db: str | Path | None, create: bool = False, batch: bool = False):
    from matcher.ranking.engine import Engine

    settings = _settings(db, create)
    return Engine(every_core(settings) if batch else settings)


def _store(db: str | Path | None) -> Store:
    """The store of an existing database (or exit 1 with one line)."""
    from matcher.store import Store

    return Store(_settings(db).db)


def _embed(engine) -> int:
    """Embed the texts without vectors: the model's bars on a terminal, else a line per
    embedder with the count and the time taken."""
    if sys.stderr.isatty():
        return engine.sync_embeddings(progress=True)
    with _steps() as step:
        return engine.sync_embeddings(step=step)


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="exchange-format JSON file, or - for stdin")],
            db: DbOption = None,
            embed: Annotated[bool, typer.Option(help="embed new or changed texts now")] = True):
    """Import (upsert by id) an exchange-format file: all or nothing."""
    from matcher.exchange import parse_document

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    engine = _engine(db, create=True, batch=embed)
    try:
        with _steps() as step:
            document = parse_document(raw, engine.ref)
            records = len(document.associations) + len(document.partners)
            step("import", 0, records)
            report = engine.store.import_exchange(document)
            step("import", records, records)
    except MatcherError as exc:
        _fail(f"nothing imported: {exc}")
    for table in report.inserted:
        typer.echo(f"{table}: {report.inserted[table]} new, {report.updated[table]} updated, "
                   f"{report.unchanged[table]} unchanged")
    if embed:
        count = _embed(engine)
        typer.echo(f"embedded {count} texts")


@app.command()
def export(db: DbOption = None,
           output: Annotated[Optional[Path], typer.Option("-o", "--output")] = None):
    """Write the whole store in the exchange format (to stdout by default)."""
    from matcher.exchange import dump_document

    store = _store(db)
    text = json.dumps(dump_document(store.export_exchange()), ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        typer.echo(text)


@app.command()
def suggest(record_id: Annotated[str, typer.Argument(help="a need id, or an association id")],
            kind: KindOption = "partner", db: DbOption = None,
            limit: Annotated[int, typer.Option(min=1, max=200)] = 10,
            weight: Annotated[Optional[list[str]], typer.Option(
                help="override a fusion weight, NAME:NUMBER (repeatable)")] = None,
            as_json: Annotated[bool, typer.Option(
                "--json", help="print the API's JSON (offering_id and partner_id, or "
                               "practice_id and association_id)")] = False):
    """Ranked, explained suggestions for a need (or across an association's needs)."""
    if kind not in ("partner", "peer"):
        _fail("--kind must be partner or peer")
    from matcher.ranking.fusion import parse_weight_overrides

    store = _store(db)
    known = store.get("needs", record_id) or store.get("associations", record_id)
    store.close()
    if not known:  # before the models load: an unknown id fails at once
        _fail(f"no need or association with id {record_id!r}")
    engine = _engine(db)
    try:
        weights = parse_weight_overrides(weight, engine.scorers())
        corpus = engine.corpus()
        if record_id in corpus.associations:
            result = engine.suggest_for_association(record_id, kind, limit, weights)
        else:
            result = engine.suggest(record_id, kind, limit, weights)
    except MatcherError as exc:
        _fail(str(exc))
    if as_json:  # the API's shape and words: offering_id/partner_id, practice_id/association_id
        from api.schemas import from_association_result, from_need_result

        shaped = from_need_result(result) if result.need_id else from_association_result(result)
        typer.echo(json.dumps(shaped.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    _print_suggestions(result)


def _print_suggestions(result) -> None:
    if result.need_id:
        how = "inferred" if result.category_inferred else "given"
        typer.echo(f"{result.need_id} ({result.language}): category {result.category} "
                   f"({how}, confidence {result.category_confidence:.2f})")
    else:
        typer.echo(f"{result.association_id}: across all its needs")
    if not result.suggestions:
        typer.echo("no suggestion passes the hard rules")
    elif result.weak:
        typer.echo("no suggestion is a good match (all weak or possible)")
    for rank, s in enumerate(result.suggestions, 1):
        typer.echo(f"\n{rank:>2}. {s.item_id}  {s.title}")
        strength = (f"  {s.strength_label} ({math.floor(round(s.strength * 100, 6))}%)"
                    if s.strength is not None else "")  # floored: "weak (14%)", never (15%)
        typer.echo(f"    by {s.owner_name} ({s.owner_id})  score {s.score:.3f}{strength}"
                   + (f"  for need {s.need_id}" if not result.need_id else ""))
        typer.echo(f"    why: {'; '.join(s.reasons)}")
        typer.echo("    contributions: "
                   + ", ".join(f"{k} {v:+.2f}" for k, v in s.contributions.items()))
    for name, why in result.failed_scorers.items():
        typer.echo(f"warning: scorer {name} left out: {why}", err=True)


@app.command("round")
def round_(db: DbOption = None,
           region: Annotated[Optional[list[str]], typer.Option(
               "--region", help="a regional network (repeatable; default: all)")] = None,
           per_need: Annotated[Optional[int], typer.Option(
               min=1, max=20, help="most open proposals per need (default: the settings')")
           ] = None,
           kind: Annotated[Optional[list[str]], typer.Option(
               "--kind", help="partner or peer (repeatable; default: both)")] = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="choose, but write nothing")
                              ] = False,
           as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False):
    """Propose matches for every open need of the regions at once, under capacity and
    fairness (a min-cost flow); the proposals go to the review queue as one round."""
    from matcher.principals import Principal, Role
    from matcher.services import rounds

    engine = _engine(db)
    operator = Principal(role=Role.ADMIN, label="user cli")
    try:
        with _steps() as step:
            report = rounds.run(engine, operator, regions=region, per_need=per_need,
                                kinds=tuple(kind) if kind else ("partner", "peer"),
                                dry_run=dry_run, progress=step)
    except MatcherError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    dry = " (dry run: nothing proposed)" if dry_run else ""
    typer.echo(f"round {report['round_id']}{dry}: "
               f"{report['needs_served']} of {report['needs']} needs served, "
               f"{len(report['proposals'])} proposals, total {report['total']} "
               f"(greedy: {report['greedy']['needs_served']} served, "
               f"total {report['greedy']['total']})")
    for why, count in sorted(Counter(u["why"] for u in report["unserved"]).items()):
        typer.echo(f"  unserved, {why.replace('_', ' ')}: {count}")


@contextmanager
def _steps():
    """A progress callback: a bar on a terminal, else a line per step with counts and time."""
    started = time.perf_counter()
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            tasks: dict[str, int] = {}

            def step(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total)
                bar.update(tasks[name], completed=done, total=total)
            yield step
        return
    begun: dict[str, float] = {}

    def line(name: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if name not in begun:
            begun[name] = now
            typer.echo(f"{name}: {done}/{total} (at {now - started:.1f} s)", err=True)
            if done != total:
                return
        if done == total:
            typer.echo(f"{name}: {done}/{total} done in {now - begun[name]:.1f} s", err=True)
    yield line


@app.command("eval")
def eval_(folder: Annotated[Path, typer.Argument(help="folder with dataset.json and qrels.json")],
          db: DbOption = None,
          run: Annotated[Path, typer.Option(help="where to write the run file")] = Path(
              "eval-run.json")):
    """Import a labelled set and print partner and peer ranking figures."""
    from matcher.ranking.evaluate import load_set, make_run, score_run

    try:
        dataset, qrels = load_set(folder)
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"cannot read the set in {folder}: {exc}")
    engine, need_ids = _load_set(db, dataset)
    with _steps() as step:
        result = make_run(engine, need_ids, step=step)
    run.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    report = score_run(result, qrels, dataset)
    for kind, figures in report.tracks.items():
        typer.echo(f"{kind:8s} nDCG@5 {figures['ndcg@5']:.3f}  Recall@10 {figures['recall@10']:.3f}"
                   f"  MRR {figures['mrr']:.3f}  violations@10 {figures['violations@10']:.3f}"
                   f"  needs with violation {figures['needs_with_violation@10']:.3f}"
                   f"  ({figures['needs']} needs)")
        langs = "  ".join(f"{lang} {value:.3f} (n={n})"
                          for lang, (value, n) in report.by_language[kind].items())
        typer.echo(f"{'':8s} nDCG@5 by need language: {langs}")
    typer.echo(f"run written to {run}")


@app.command()
def calibrate(folder: Annotated[Path, typer.Argument(
                  help="folder with dataset.json and qrels.json")],
              db: DbOption = None,
              output: Annotated[Path, typer.Option("-o", "--output", help="where to write the "
                                                   "calibration JSON")] = Path("calibration.json"),
              folds: Annotated[int, typer.Option(min=2, help="folds (by need) of the "
                                                 "cross-validated figures")] = 5):
    """Refit the strength calibration on a labelled set; print cross-validated figures."""
    from matcher.ranking.calibrate import calibrate as fit_calibration
    from matcher.ranking.evaluate import load_set

    try:
        dataset, qrels = load_set(folder)
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"cannot read the set in {folder}: {exc}")
    if db is None:
        import tempfile

        db = Path(tempfile.mkdtemp(prefix="matcher-calibrate-")) / "calibrate.db"
    engine, need_ids = _load_set(db, dataset)
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("scoring every admissible pair", total=2 * len(need_ids))
        try:
            calibration, measured = fit_calibration(engine, folder, need_ids, qrels, folds,
                                                    progress=lambda: bar.advance(task))
        except (KeyError, ValueError) as exc:
            _fail(f"cannot fit on the set in {folder}: {exc}")
    calibration.save(output)
    for kind, model in calibration.kinds.items():
        typer.echo(f"{kind:8s} {model.pairs} pairs, {model.positives} with grade >= 2")
        f = measured.get(kind)
        if f:
            typer.echo(f"{'':8s} cross-validated ({folds} folds by need): ECE {f['ece']:.3f}  "
                       f"Brier {f['brier']:.4f}  AUC {f['auc']:.3f}  strong {f['strong']} "
                       f"of which grade >= 2: {f['strong_precision']:.2f}")
    typer.echo(f"calibration written to {output}")


@app.command()
def plugins(db: DbOption = None):
    """List the scorers: name, weight per kind, source, description; and per kind whether the
    weights are the hand weights or learned from decisions (`matcher train`)."""
    from matcher.plugins import collect_scorers, get_plugin_manager
    from matcher.ranking.fusion_model import LearnedFusion
    from matcher.ranking.scoring import default_weights

    settings = _settings(db, create=True)
    scorers = collect_scorers(get_plugin_manager())
    learned = None
    if settings.db_is_url or settings.db.is_file():  # listing the scorers creates none
        from matcher.store import Store

        learned = LearnedFusion(Store(settings.db), settings.learn_min_decisions)
    tables = {}
    for kind in ("partner", "peer"):
        hand = settings.weights_for(kind, defaults=default_weights(scorers, kind))
        tables[kind] = learned.weights(kind, hand) if learned else hand
    for name, registered in scorers.items():
        w_partner, w_peer = tables["partner"].get(name, 0.0), tables["peer"].get(name, 0.0)
        kinds = sorted(registered.scorer.kinds)
        typer.echo(f"{name:16s} partner {w_partner:<5.3g} peer {w_peer:<5.3g} "
                   f"[{registered.source}] ({', '.join(kinds)}) {registered.scorer.description}")
    for kind in ("partner", "peer"):
        status = learned.status(kind).description if learned else "hand weights"
        typer.echo(f"fusion for {kind}: {status}")


@app.command()
def train(db: DbOption = None,
          reset: Annotated[bool, typer.Option(
              "--reset", help="forget every learned model: back to the hand weights")] = False):
    """Learn the fusion weights from the decisions in the database: approvals, rejections (with
    their reasons), acceptances, outcomes and "not interested". A kind with fewer decisions
    than MATCHER_LEARN_MIN_DECISIONS keeps its hand weights."""
    settings = _settings(db)
    if reset:
        from matcher.store import Store

        count = Store(settings.db).forget_fusion_models()
        typer.echo(f"forgot {count} learned model(s); fusion: hand weights")
        return
    from matcher.ranking.engine import Engine
    from matcher.ranking.learn import train as learn

    engine = Engine(settings)
    try:
        report = learn(engine)
    except MatcherError as exc:
        _fail(str(exc))
    if report.stored:
        row = report.stored
        typer.echo(f"model {row['id']} stored {row['trained_at']}: {row['decisions']} "
                   f"decisions, {row['size']} bytes")
    else:
        typer.echo("no model stored")
    for kind in ("partner", "peer"):
        typer.echo(f"{kind:8s} {report.decisions[kind]} decisions "
                   f"({report.positives[kind]} relevant): "
                   f"{engine.fusion_status(kind).description}"
                   + (f" ({report.why[kind]})" if kind in report.why else ""))
        weights = report.weights[kind]
        if weights:
            hand = engine.hand_weights(kind)
            typer.echo(f"{'':8s} " + ", ".join(f"{name} {hand.get(name, 0.0):g} -> {w:.2f}"
                                                 for name, w in weights.items()))


@app.command()
def serve(db: DbOption = None, host: str = "127.0.0.1", port: int = 8000,
          demo: Annotated[bool, typer.Option(help="load the bundled demo data first")] = False,
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="worker processes (each holds its own corpus: about "
              "0.4-0.7 GB each at 10,000 offerings and 10,000 practices)")] = 1):
    """Run the HTTP API (OpenAPI docs at /docs). Forwarded headers count only from
    MATCHER_TRUSTED_PROXIES."""
    import uvicorn

    from api.proxies import SERVER_OPTIONS

    settings = _settings(db, create=demo)
    if demo:
        _load_demo(settings, f"http://{host}:{port}")
    if workers == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    **SERVER_OPTIONS)
        return
    # each worker process builds the app from the environment: the settings travel there
    os.environ["MATCHER_DB"] = (settings.db if isinstance(settings.db, str)
                                else str(settings.db.resolve()))
    os.environ["MATCHER_WORKERS"] = str(workers)
    # one BLAS thread per worker unless told otherwise: N workers with a thread per core
    # each oversubscribe the cores (measured: the cosine of a request 5x slower under load)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # the app is imported by the workers only: the supervisor spawns them sooner; each
    # worker listens on a socket of its own (api.workers), so connections spread over them
    from api.workers import PortTaken, run_workers

    try:
        run_workers("api.app:create_app_from_environment", workers, host, port,
                    log_level="info", **SERVER_OPTIONS)
    except PortTaken as error:
        _fail(str(error))


@app.command()
def notify(db: DbOption = None,
           digest: Annotated[bool, typer.Option(
               "--digest", help="first queue each coordinator's daily digest")] = False):
    """Deliver the e-mail outbox once and exit (for cron): remind coordinators of matches
    active too long without an outcome, optionally queue the daily digest, send what is due.
    With no MATCHER_SMTP_HOST the outbox keeps every message."""
    from matcher.services.outbox import deliver_pending, send_digest
    from matcher.store.locks import database_lock
    from matcher.workflow.notifications import remind_stale

    engine = _engine(db)
    # over PostgreSQL a server's courier may be delivering: only the lock's holder does
    lock = database_lock(engine.settings.db, "courier")
    if lock is not None and not lock.try_acquire():
        digests = send_digest(engine) if digest else 0
        typer.echo(f"{digests} digests queued; another process delivers the outbox now "
                   "(nothing sent)")
        return
    try:
        reminded = remind_stale(engine, engine.settings.reminder_days)
        digests = send_digest(engine) if digest else 0
        done = deliver_pending(engine.store, engine.settings)
    finally:
        if lock is not None:
            lock.release()
    held = f", {done.held} held (no MATCHER_SMTP_HOST)" if done.held else ""
    typer.echo(f"{reminded} reminders, {digests} digests queued; {done.sent} sent, "
               f"{done.failed} failed (retried later){held}")


@app.command()
def outbox(db: DbOption = None,
           pending: Annotated[bool, typer.Option("--pending", help="only unsent")] = False,
           message: Annotated[Optional[int], typer.Option(
               "--id", help="show this message whole")] = None,
           limit: Annotated[int, typer.Option(min=1)] = 50):
    """The e-mail outbox: each message, whether it was sent, its attempts and last error."""
    store = _store(db)
    if message is not None:
        row = store.outbox_row(message)
        if row is None:
            _fail(f"no outbox message with id {message}")
        for key in ("message_id", "event", "recipient", "language", "created_at", "attempts",
                    "next_attempt_at", "last_error", "sent_at", "subject"):
            typer.echo(f"{key}: {row[key] if row[key] is not None else '-'}")
        typer.echo("\n" + row["body"])
        return
    rows, counts = store.outbox(pending_only=pending, limit=limit)
    typer.echo(f"{counts['pending']} pending ({counts['failing']} failing), "
               f"{counts['sent']} sent")
    for r in rows:
        state = (f"sent {r['sent_at']}" if r["sent_at"] else
                 f"retry {r['next_attempt_at']}" if r["attempts"] else "pending")
        typer.echo(f"{r['id']:>5}  {state:32s} {r['attempts']:>2}x  {r['recipient']:32s} "
                   f"{r['subject'][:60]}")


@app.command("migrate-store")
def migrate_store(
        source: Annotated[str, typer.Option(
            "--from", help="the database to copy: a SQLite file or a postgresql:// URL")],
        target: Annotated[str, typer.Option(
            "--to", help="the empty database to copy into: a postgresql:// URL, or a SQLite "
                         "file (made when missing)")]):
    """Copy every record of one database into another, empty one (e.g. SQLite to PostgreSQL),
    all or nothing, ids kept; then print and check the rows of each table. Stop the servers
    writing to the source first: the copy is of one moment of it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from matcher.db_target import is_url, redacted
    from matcher.services.migrate_store import migrate_store as copy_database

    for url in (source, target):
        if is_url(url):
            _check_reachable(url)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("copying", total=None)

        def step(table: str, done: int, total: int) -> None:
            bar.update(task, description=f"copying {table}", completed=done, total=total)

        try:
            report = copy_database(source, target, step)
        except MatcherError as exc:
            _fail(str(exc))
    for table, count in report.target.items():
        typer.echo(f"{table}: {count} rows")
    typer.echo(f"copied {sum(report.source.values())} rows from {redacted(source)} to "
               f"{redacted(target)}; the rows of every table are counted alike")


def demo_credentials_file(db: Path) -> Path:
    """Where ``serve --demo`` keeps the demo accounts' tokens and passwords: beside the
    database (``db``: :meth:`Settings.local_files`, so for PostgreSQL in the server's state
    folder), readable by its owner only."""
    return db.with_name(db.name + ".credentials.json")  # db: Settings.local_files()


def _stored_demo_credentials(store: Store, path: Path) -> dict | None:
    """The demo credentials kept in ``path`` if every token and password still works."""
    from matcher.accounts.users import check_password

    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        tokens, users = kept["tokens"], kept["users"]
        working = (all(store.principal_for(t["token"]) is not None for t in tokens)
                   and all(check_password(store, u["username"], u["password"]) is not None
                           for u in users))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return kept if working and tokens and users else None


def _load_demo(settings: Settings, base_url: str) -> None:
    """Import the bundled demo data, embed it, and print the demo tokens and web accounts: the
    ones kept beside the database while they still work (signed-in users stay signed in),
    else fresh ones, kept for the next start."""
    from matcher.accounts.users import create_user
    from matcher.db_target import redacted
    from matcher.exchange import parse_document
    from matcher.principals import Role
    from matcher.ranking.engine import Engine

    engine = Engine(every_core(settings))
    demo = engine.ref.data_dir / "demo.json"
    document = parse_document(demo.read_bytes(), engine.ref)
    report = engine.store.import_exchange(document)
    typer.echo(f"demo data: {sum(report.inserted.values())} new records in "
               f"{redacted(settings.db)}")
    _embed(engine)
    association = document.associations[0]
    partner = document.partners[0]
    path = demo_credentials_file(settings.local_files())
    kept = _stored_demo_credentials(engine.store, path)
    if kept:
        typer.echo(f"demo accounts unchanged since the last start (kept in {path}); "
                   "signed-in users stay signed in")
    else:
        for old in engine.store.tokens():
            if old["label"].startswith("demo ") and not old["revoked_at"]:
                engine.store.revoke_token(old["id"])
        kept = {"tokens": [], "users": []}
        for role, scope, label in (
                (Role.ADMIN, {}, "demo admin"),
                (Role.COORDINATOR, {"regions": [association.region]},
                 f"demo coordinator of {association.region}"),
                (Role.ASSOCIATION, {"association_id": association.id},
                 f"demo member of {association.id}"),
                (Role.PARTNER, {"partner_id": partner.id}, f"demo partner {partner.id}")):
            _, token = engine.store.create_token(role, label=label, **scope)
            kept["tokens"].append({"label": label, "token": token})
        for role, scope in ((Role.ADMIN, {}),
                            (Role.COORDINATOR, {"regions": [association.region]}),
                            (Role.ASSOCIATION, {"association_id": association.id}),
                            (Role.PARTNER, {"partner_id": partner.id})):
            username, password = f"demo-{role.value}", secrets.token_urlsafe(12)
            create_user(engine.store, username, password, role, replace=True, **scope)
            kept["users"].append({"username": username, "password": password})
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
        typer.echo(f"new demo accounts (kept in {path}; the next start with this database "
                   "keeps them)")
    typer.echo("demo tokens (demo mode only; send as 'Authorization: Bearer <token>'):")
    for t in kept["tokens"]:
        typer.echo(f"  {t['label']:45s} {t['token']}")
    typer.echo("demo web accounts (demo mode only; sign in at the web pages):")
    for u in kept["users"]:
        typer.echo(f"  {u['username']:20s} password {u['password']}")
    typer.echo(f"web pages: {base_url}/")
    typer.echo(f"API docs: {base_url}/docs   try: curl -H 'Authorization: Bearer <admin token>' "
               f"{base_url}/api/v1/needs/{association.needs[0].id}/suggestions")
    engine.store.close()


# The options a scope comes from, named in the messages of :func:`matcher.accounts.users.check_scope`.
SCOPE_OPTIONS = {"role": "--role", "association": "--association", "partner": "--partner",
                 "regions": "--region"}


def _checked_scope(db: str | Path | None, role: str, association: str | None, partner: str | None,
                   regions: list[str] | None) -> tuple[Store, Scope]:
    """The store and the checked role and scope of a new token or user (or exit 1 saying
    what is wrong)."""
    from matcher.accounts.users import BadScope, check_scope
    from matcher.reference import load_reference
    from matcher.store import Store

    settings = _settings(db)
    store = Store(settings.db)
    try:
        scope = check_scope(store, load_reference(settings.data_dir).regions, role,
                            association=association, partner=partner, regions=regions,
                            names=SCOPE_OPTIONS)
    except BadScope as exc:
        _fail(exc.reason)
    return store, scope


token_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="API tokens: create, list, revoke.")
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
        role: Annotated[str, typer.Option(help="admin, coordinator, association or partner")],
        association: Annotated[Optional[str], typer.Option(
            help="the association (role association)")] = None,
        partner: Annotated[Optional[str], typer.Option(help="the partner (role partner)")] = None,
        region: Annotated[Optional[list[str]], typer.Option(
            help="a region (role coordinator, repeatable)")] = None,
        label: Annotated[str, typer.Option(help="a note on who holds it")] = "",
        db: DbOption = None):
    """Create a token; it is printed once, alone on the last line."""
    store, scope = _checked_scope(db, role, association, partner, region)
    try:
        token_id, token = store.create_token(scope.role, label=label, **scope.as_kwargs())
    except MatcherError as exc:
        _fail(str(exc))
    typer.echo(f"token {token_id} created for {scope.role.value}; keep it secret, it is shown "
               "once:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="the token's id")],
                 db: DbOption = None):
    """Revoke a token: it stops working at once."""
    try:
        _store(db).revoke_token(token_id)
    except MatcherError as exc:
        _fail(str(exc))
    typer.echo(f"token {token_id} revoked")


def _scope_of(row: dict) -> str:
    """What a token or user is scoped to: its association, partner or regions ("-": all)."""
    return row["association_id"] or row["partner_id"] or ",".join(row["regions"]) or "-"


@token_app.command("list")
def token_list(db: DbOption = None):
    """List tokens (never the secrets)."""
    for t in _store(db).tokens():
        scope = _scope_of(t)
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else "active"
        typer.echo(f"{t['id']:>4}  {t['role']:12s} {scope:30s} {state}  {t['label']}")


user_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Web users (sign in with a username and password): create, list, "
                            "disable.")
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
        username: Annotated[str, typer.Option(help="3 to 64 characters: letters, digits, . _ @ -")],
        role: Annotated[str, typer.Option(help="admin, coordinator, association or partner")],
        association: Annotated[Optional[str], typer.Option(
            help="the association (role association)")] = None,
        partner: Annotated[Optional[str], typer.Option(help="the partner (role partner)")] = None,
        region: Annotated[Optional[list[str]], typer.Option(
            help="a region (role coordinator, repeatable)")] = None,
        password_stdin: Annotated[bool, typer.Option(
            "--password-stdin", help="read the password from the first line of standard input "
                                     "(otherwise it is asked for, twice)")] = False,
        email: Annotated[Optional[str], typer.Option(
            help="where a coordinator's or admin's notifications are e-mailed")] = None,
        language: Annotated[str, typer.Option(help="en, fr, es or pt: of those e-mails")] = "en",
        db: DbOption = None):
    """Create a web user; the password is never stored, only its scrypt hash."""
    from matcher.accounts.passwords import check_strength
    from matcher.accounts.users import create_user
    from matcher.reference import UI_LANGUAGES
    from matcher.workflow.notifications import EMAIL_SHAPE

    if email is not None and not EMAIL_SHAPE.match(email.strip()):
        _fail("--email is not an e-mail address")
    if language not in UI_LANGUAGES:
        _fail(f"--language is one of: {', '.join(UI_LANGUAGES)}")
    store, scope = _checked_scope(db, role, association, partner, region)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    weak = check_strength(password)
    if weak:
        _fail(weak)
    try:
        user_id = create_user(store, username, password, scope.role, **scope.as_kwargs())
    except MatcherError as exc:
        _fail(str(exc))
    store.set_user_contact(username.strip().lower(), email=email and email.strip(),
                           language=language)
    typer.echo(f"user {user_id} created: {username.strip().lower()} ({scope.role.value})")


@user_app.command("list")
def user_list(db: DbOption = None):
    """List web users (never their passwords)."""
    for u in _store(db).users():
        scope = _scope_of(u)
        state = f"disabled {u['disabled_at']}" if u["disabled_at"] else "active"
        typer.echo(f"{u['id']:>4}  {u['username']:24s} {u['role']:12s} {scope:30s} {state}")


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="the user's name")],
                 db: DbOption = None):
    """Disable a web user: they cannot sign in any more, and their open sessions end."""
    try:
        _store(db).disable_user(username)
    except MatcherError as exc:
        _fail(str(exc))
    typer.echo(f"user {username.strip().lower()} disabled")


glossary_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                           help="The ASM glossary: miners' local words for each concept.")
app.add_typer(glossary_app, name="glossary")
GlossaryOption = Annotated[Optional[Path], typer.Option(
    "--file", help="the deployment's glossary file (default: settings, else DB.glossary.json; "
    "for a PostgreSQL database NAME.glossary.json in the working directory)")]


def _glossary_file(db: str | None, file: Path | None) -> Path:
    return file or load_settings(db=db).glossary_file()


@glossary_app.command("list")
def glossary_list(db: DbOption = None, file: GlossaryOption = None,
                  concept: Annotated[Optional[str], typer.Option(
                      help="only this concept")] = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False):
    """Every concept with its gloss and its terms per language (bundled and this
    deployment's)."""
    from matcher.glossary import GlossaryError, load_glossary

    try:
        glossary = load_glossary(_glossary_file(db, file))
    except GlossaryError as exc:
        _fail(str(exc))
    concepts = glossary.concepts
    if concept is not None:
        if concept not in concepts:
            _fail("no such concept (see `matcher glossary list`)")
        concepts = {concept: concepts[concept]}
    if as_json:
        typer.echo(json.dumps({n: {"gloss": c.gloss, "terms": c.terms}
                              for n, c in concepts.items()}, ensure_ascii=False, indent=1))
        return
    for name, c in concepts.items():
        typer.echo(f"{name}: {c.gloss}")
        for tag, terms in sorted(c.terms.items()):
            typer.echo(f"    {tag:6s} {', '.join(terms)}")


@glossary_app.command("add")
def glossary_add(concept: Annotated[str, typer.Argument(help="concept name, e.g. mercury")],
                 language: Annotated[str, typer.Argument(
                     help="language, optionally with a country: sw, es-CO")],
                 term: Annotated[str, typer.Argument(help="the word or phrase miners use")],
                 gloss: Annotated[Optional[str], typer.Option(
                     help="plain English wording (needed for a new concept)")] = None,
                 db: DbOption = None, file: GlossaryOption = None):
    """Add a local word to a concept in this deployment's glossary. Texts are embedded again
    with it on the next sync (`matcher import` or the server's background embedding)."""
    from matcher.glossary import GlossaryError, add_term

    path = _glossary_file(db, file)
    try:
        add_term(path, concept, language, term, gloss)
    except (GlossaryError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"added to {concept} ({language}) in {path}")


knowledge_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                             help="Knowledge products: digests of practices and lessons.")
app.add_typer(knowledge_app, name="knowledge")


@knowledge_app.command("export")
def knowledge_export(
        fmt: Annotated[str, typer.Option("--format", help="html, md or csv")],
        topic: Annotated[Optional[str], typer.Option(help="a topic (category), e.g. mercury")] = None,
        region: Annotated[Optional[str], typer.Option(
            help="a network, e.g. africa_francophone")] = None,
        lang: Annotated[str, typer.Option("--lang", help="interface language: en, fr, es, pt")] = "en",
        output: Annotated[Optional[Path], typer.Option("-o", "--output")] = None,
        db: DbOption = None):
    """The practices and the published lessons on a topic and in a network, as a digest to
    share in the network's channels (to stdout unless -o). A lesson of a confidential need
    is in it only once its association published it, and never names the association."""
    from matcher.services import knowledge

    if fmt not in knowledge.FORMATS:
        _fail(f"--format is one of: {', '.join(knowledge.FORMATS)}")
    engine = _engine(db)
    try:
        text = knowledge.render(knowledge.digest(engine, topic, region, lang), fmt)
    except MatcherError as exc:
        _fail(str(exc))
    finally:
        engine.store.close()
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
    else:
        typer.echo(text, nl=False)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
