"""Translation check: the same needs in English and in sw, tl and id, scored with the same qrels.

The sample: the first 15 English needs (by id) of the dev set that have partner labels; their
hand translations are in ``bench/translation_check/{sw,tl,id}.json`` (keyed by the dev need id).
For each language the sampled needs' texts are replaced by their translations, the set is
imported into one SQLite file (unchanged texts keep their vectors), and nDCG@5 of both tracks is
computed over the sampled needs only, next to the English originals.

    python bench/translation_check.py DEV_DIR [--db PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matcher.exchange import parse_document  # noqa: E402
from matcher.ranking.engine import Engine  # noqa: E402
from matcher.ranking.evaluate import load_set, make_run, score_run  # noqa: E402
from matcher.settings import load_settings  # noqa: E402

HERE = Path(__file__).resolve().parent / "translation_check"
LANGUAGES = ("sw", "tl", "id")


def translations() -> dict[str, dict[str, str]]:
    return {lang: json.loads((HERE / f"{lang}.json").read_text(encoding="utf-8"))["needs"]
            for lang in LANGUAGES}


def with_texts(dataset: dict, texts: dict[str, str]) -> dict:
    """A copy of ``dataset`` with the needs in ``texts`` rewritten."""
    out = copy.deepcopy(dataset)
    for association in out["associations"]:
        for need in association["needs"]:
            need["text"] = texts.get(need["id"], need["text"])
    return out


def score(engine: Engine, dataset: dict, qrels: dict, sample: list[str]) -> dict[str, float]:
    engine.store.import_exchange(parse_document(dataset, engine.ref))
    engine.sync_embeddings()
    report = score_run(make_run(engine, sample), _only(qrels, sample), dataset)
    return {kind: figures["ndcg@5"] for kind, figures in report.tracks.items()}


def _only(qrels: dict, sample: list[str]) -> dict:
    return {key: ({nid: value[nid] for nid in sample if nid in value}
                  if isinstance(value, dict) else value) for key, value in qrels.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev", type=Path, help="folder with dataset.json and qrels.json")
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    dataset, qrels = load_set(args.dev)
    texts = translations()
    sample = sorted(set.intersection(*(set(t) for t in texts.values())))
    db = args.db or Path(tempfile.mkdtemp(prefix="translation-check-")) / "check.db"
    engine = Engine(load_settings(db=db))
    figures = {"en": score(engine, dataset, qrels, sample)}
    for lang in LANGUAGES:
        figures[lang] = score(engine, with_texts(dataset, texts[lang]), qrels, sample)
    engine.store.import_exchange(parse_document(dataset, engine.ref))  # leave it as it was
    print(f"translation check: {len(sample)} dev needs ({sample[0]} .. {sample[-1]}), "
          f"nDCG@5 per language")
    print(f"{'lang':6s}{'partner':>10s}{'Δ vs en':>10s}{'peer':>10s}{'Δ vs en':>10s}")
    for lang, value in figures.items():
        print(f"{lang:6s}{value['partner']:10.3f}{value['partner'] - figures['en']['partner']:+10.3f}"
              f"{value['peer']:10.3f}{value['peer'] - figures['en']['peer']:+10.3f}")


if __name__ == "__main__":
    main()
