"""Import and embedding throughput on an exchange-format dataset, per embedder.

    python bench/throughput.py DATASET_JSON [--embedders use-multilingual,minilm] [--runs 3]
                               [--together]

For each embedder and run: a fresh SQLite file in a temporary folder; time parse_document +
Store.import_exchange (records/s) and Engine.sync_embeddings (texts/s, model already loaded);
then import the same document again and check that it changes nothing and embeds 0 texts.
Prints medians over the runs. The models use every core, as `matcher import` does, unless
MATCHER_THREADS says otherwise.
"""

from __future__ import annotations

import os
import statistics
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

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 140)


def one_run(raw: bytes, name: str, folder: Path) -> dict:
    from matcher.exchange import parse_document
    from matcher.ranking.engine import Engine
    from matcher.settings import every_core, load_settings

    names = name.split("+")
    engine = Engine(every_core(load_settings(db=folder / "throughput.db", embedders=names)))
    try:
        start = time.perf_counter()
        doc = parse_document(raw, engine.ref)
        parsed = time.perf_counter()
        report = engine.store.import_exchange(doc)
        imported = time.perf_counter()
        vectors = engine.sync_embeddings()
        embedded = time.perf_counter()
        # several embedders: the store's distinct texts, each embedded by those that need it
        texts = vectors if len(names) == 1 else len(set(engine.vectors.texts()))
        second = engine.store.import_exchange(parse_document(raw, engine.ref))
        texts_again = engine.sync_embeddings()
        again = time.perf_counter()
    finally:
        engine.store.close()
    records = sum(report.inserted.values())
    return {
        "records": records, "parse_s": parsed - start, "upsert_s": imported - parsed,
        "import_s": imported - start, "texts": texts, "embed_s": embedded - imported,
        "second_changed": second.changed,
        "second_unchanged": sum(second.unchanged.values()),
        "second_texts": texts_again, "second_s": again - embedded,  # parse + import + sync
    }


def main(
    dataset_json: Annotated[Path, typer.Argument(help="exchange-format JSON file")],
    embedders: Annotated[str, typer.Option(help="comma-separated embedder names")] =
        "use-multilingual,minilm",
    runs: Annotated[int, typer.Option(min=1, help="runs per embedder (median reported)")] = 3,
    together: Annotated[bool, typer.Option(
        help="also a row for all of them in one sync (the import as a user runs it: texts = "
             "the store's distinct texts, each embedded by every embedder that needs it)")]
        = False,
) -> None:
    """Median import records/s and embedding texts/s per embedder, and the re-import check."""
    from matcher.plugins import get_embedder, get_plugin_manager
    from matcher.settings import every_core, load_settings

    raw = dataset_json.read_bytes()
    names = [n.strip() for n in embedders.split(",") if n.strip()]
    settings = every_core(load_settings())
    results: dict[str, list[dict]] = {}
    load_s: dict[str, float] = {}
    for name in names + (["+".join(names)] if together and len(names) > 1 else []):
        start = time.perf_counter()
        for part in name.split("+"):
            get_embedder(get_plugin_manager(), settings, part).embed("load before timing")
        load_s[name] = time.perf_counter() - start
        results[name] = []
        for _ in track(range(runs), description=f"{name}", console=console, transient=True):
            with tempfile.TemporaryDirectory(prefix="delve-throughput-") as folder:
                results[name].append(one_run(raw, name, Path(folder)))

    table = Table(title=f"{dataset_json} — median of {runs} runs, fresh db each "
                        f"(threads {settings.threads}, batch {settings.batch_size})",
                  title_justify="left")
    table.add_column("embedder", no_wrap=True)
    for col in ("records", "import s", "import rec/s", "upsert-only rec/s", "texts", "embed s",
                "embed texts/s", "model load s", "re-import changed", "re-import texts",
                "re-import s"):
        table.add_column(col, justify="right")
    all_ok = True
    for name in results:
        rs = results[name]
        med = {key: statistics.median(r[key] for r in rs)
               for key in ("import_s", "upsert_s", "embed_s", "second_s")}
        records, texts = rs[0]["records"], rs[0]["texts"]
        ok = all(not r["second_changed"] and r["second_texts"] == 0 for r in rs)
        all_ok &= ok
        table.add_row(
            name, f"{records:,}", f"{med['import_s']:.3f}", f"{records / med['import_s']:,.0f}",
            f"{records / med['upsert_s']:,.0f}", f"{texts:,}", f"{med['embed_s']:.2f}",
            f"{texts / med['embed_s']:,.0f}", f"{load_s[name]:.1f}",
            "no" if ok else "YES", str(max(r["second_texts"] for r in rs)),
            f"{med['second_s']:.3f}",
        )
    console.print(table)
    console.print("texts = needs + offerings + practices + category prototypes, each embedded "
                  "once per embedder; re-import = parse + import + sync_embeddings of the same "
                  f"document again; it changes nothing and embeds 0 texts: "
                  f"{'yes' if all_ok else 'NO'}")


if __name__ == "__main__":
    typer.run(main)
