"""Mutual peer exchanges on a labelled benchmark: how many are found, and how precise the top
ten are, judged by the peer qrels in both directions.

    python bench/exchanges.py ../shared/bench/dev [--db PATH] [--top 10]

Imports and embeds the benchmark's dataset into a fresh SQLite file, then asks every
association for its exchanges (:func:`matcher.services.suggestions.exchanges`, as an admin).
An exchange between A and B counts as relevant when the qrels grade some need of A against a
practice of B at 2 or more, and some need of B against a practice of A at 2 or more. Prints
the mutual pairs found (each unordered pair once), the relevant ones among all labelled
mutual pairs, and the precision of the ten highest-scored exchanges. Ranking is unchanged by
this feature: peer nDCG@5 is ``matcher eval``'s.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import typer


def main(folder: Annotated[Path, typer.Argument(help="benchmark folder (dataset.json, "
                                                     "qrels.json)")],
         db: Annotated[Path | None, typer.Option(help="SQLite file to create")] = None,
         top: int = 10) -> None:
    from matcher.exchange import parse_document
    from matcher.principals import Principal, Role
    from matcher.ranking.engine import Engine
    from matcher.services import suggestions
    from matcher.settings import load_settings

    dataset = json.loads((folder / "dataset.json").read_text())
    qrels = json.loads((folder / "qrels.json").read_text())["peer_qrels"]
    db = db or Path(tempfile.mkdtemp()) / "exchanges.db"
    engine = Engine(load_settings(db=db))
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()

    need_owner = {n["id"]: a["id"] for a in dataset["associations"] for n in a["needs"]}
    practice_owner = {p["id"]: a["id"] for a in dataset["associations"] for p in a["practices"]}
    helps: set[tuple[str, str]] = set()  # (learner, teacher): a grade >= 2 pair
    for need_id, graded in qrels.items():
        for practice_id, grade in graded.items():
            if grade >= 2:
                helps.add((need_owner[need_id], practice_owner[practice_id]))
    labelled = {frozenset((a, b)) for a, b in helps if (b, a) in helps}

    admin = Principal(role=Role.ADMIN, label="user bench")
    found: dict[frozenset, float] = {}
    for association in dataset["associations"]:
        for e in suggestions.exchanges(engine, admin, association["id"], limit=1000)[
                "exchanges"]:
            pair = frozenset((association["id"], e["association_id"]))
            found[pair] = max(found.get(pair, 0.0), e["score"])
    ranked = sorted(found, key=lambda p: -found[p])
    hits = [p in labelled for p in ranked[:top]]
    print(f"associations: {len(dataset['associations'])}; mutual pairs in the qrels "
          f"(grade >= 2 both ways): {len(labelled)}")
    print(f"mutual exchanges found: {len(found)}; of them labelled mutual: "
          f"{sum(p in labelled for p in found)} (recall {sum(p in labelled for p in found) / max(1, len(labelled)):.2f})")
    print(f"precision@{top}: {sum(hits) / max(1, len(hits)):.2f} ({sum(hits)} of {len(hits)})")


if __name__ == "__main__":
    typer.run(main)
