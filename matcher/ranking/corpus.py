"""The in-memory view of the store the engine ranks over: matrices and attribute arrays.

Built once per data version (and set of embedders) from the store, then shared read-only by
requests. Everything a scorer or a hard filter needs is here as numpy arrays, so that one
request filters and scores a whole block of candidates without a Python loop per pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from matcher.glossary import Glossary
from matcher.language import detect_language
from matcher.reference import Reference


class Vocabulary:
    """Stable index of string values (regions, countries, languages, ...)."""

    def __init__(self, values=()):
        self.index: dict[str, int] = {}
        for value in values:
            self.add(value)

    def add(self, value: str) -> int:
        return self.index.setdefault(value, len(self.index))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, value: str) -> int:
        return self.index[value]

    def get(self, value: str, default: int = -1) -> int:
        return self.index.get(value, default)

    def mask(self, rows: list[list[str]]) -> np.ndarray:
        """Boolean matrix (len(rows), len(vocab)): row i marks the values of rows[i]."""
        out = np.zeros((len(rows), max(len(self), 1)), dtype=bool)
        for i, values in enumerate(rows):
            for value in values:
                j = self.index.get(value)
                if j is not None:
                    out[i, j] = True
        return out


@dataclass
class Block:
    """One kind of candidate (offerings or practices) as parallel arrays."""

    kind: str
    ids: list[str]
    records: list[dict]
    texts: list[str]
    languages: list[str]  # detected language of each text
    category: np.ndarray  # int index into categories, -1 when not given
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    state: dict[str, object] = field(default_factory=dict)  # per-scorer prepared state
    # What came of each item's past exchanges, one int array (items, categories) per count
    # (EVIDENCE), filled from the store and refreshed when an outcome is recorded, without
    # rebuilding the rest: read it in ``score`` (not ``prepare``), as ``ctx.block.evidence``.
    evidence: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {rid: i for i, rid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)


# The evidence kept per item (Block.evidence), each an int array of shape (items,
# categories): per item and per category of the need exchanged for, the exchanges that
# helped (a good outcome), those that led to nothing, and how many associations the item
# helped (through needs that are not confidential; this one is the only number to show).
EVIDENCE = ("good", "no_outcome", "helped")


def evidence_arrays(block: Block, categories: Vocabulary,
                    found: dict[tuple[str, str], dict[str, int]]) -> dict[str, np.ndarray]:
    """``found`` ((item id, category) -> counts, as the store gives them) as one array per
    count over ``block`` and ``categories``; what is not found counts 0."""
    shape = (len(block), max(len(categories), 1))
    arrays = {name: np.zeros(shape, dtype=np.int64) for name in EVIDENCE}
    for (item_id, category), counts in found.items():
        row, column = block.position.get(item_id), categories.get(category)
        if row is not None and column >= 0:
            for name in EVIDENCE:
                arrays[name][row, column] = counts.get(name, 0)
    return arrays


def offering_text(row: dict) -> str:
    return f"{row['title']}. {row['description']}".strip()


@dataclass
class Corpus:
    """Everything the engine ranks over, for one data version."""

    version: int
    ref: Reference
    categories: Vocabulary
    regions: Vocabulary
    countries: Vocabulary
    commodities: Vocabulary
    languages: Vocabulary
    associations: dict[str, dict]
    assoc_index: dict[str, int]
    partners: dict[str, dict]
    needs: dict[str, dict]
    offerings: Block
    practices: Block
    need_vectors: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    glossary: Glossary | None = None  # local words -> concepts, for the word match
    evidence_version: int = 0  # the store's evidence_version its blocks' evidence is of

    def block(self, kind: str) -> Block:
        return self.offerings if kind == "partner" else self.practices


def build_corpus(version: int, ref: Reference, partners: list[dict], offerings: list[dict],
                 associations: list[dict], needs: list[dict], practices: list[dict],
                 detect: Callable[[str], str] = detect_language,
                 earlier: tuple[Corpus, dict[str, np.ndarray]] | None = None) -> Corpus:
    """Arrays for filtering and scoring; vectors are attached afterwards by the engine.
    ``detect``: a text's language (the engine passes one that remembers). ``earlier``: a
    previous corpus of the same associations, and per kind each candidate's position there
    when its record is the one it had (-1: new or changed); those rows of the arrays are
    copied from it rather than made again, when the vocabularies are the same."""
    categories = Vocabulary(ref.categories)
    regions = Vocabulary(ref.regions)
    countries = Vocabulary(sorted({*ref.countries, *(a["country"] for a in associations),
                                   *(c for o in offerings for c in o["countries"])}))
    commodities = Vocabulary(ref.commodities)
    languages = Vocabulary(sorted({*(lang for o in offerings for lang in o["languages"]),
                                   *(lang for a in associations for lang in a["languages"])}))
    assoc_by_id = {a["id"]: a for a in associations}
    assoc_index = {a["id"]: i for i, a in enumerate(associations)}
    vocabularies = (categories, regions, countries, commodities, languages)
    if earlier is not None and any(
            mine.index != theirs.index for mine, theirs in zip(vocabularies, (
                earlier[0].categories, earlier[0].regions, earlier[0].countries,
                earlier[0].commodities, earlier[0].languages), strict=True)):
        earlier = None  # other columns: every row made again

    def offering_arrays(rows: list[dict]) -> dict[str, np.ndarray]:
        return {
            "regions": regions.mask([o["regions"] for o in rows]),
            "regions_any": np.array([not o["regions"] for o in rows], dtype=bool),
            "countries": countries.mask([o["countries"] for o in rows]),
            "countries_any": np.array([not o["countries"] for o in rows], dtype=bool),
            "commodities": commodities.mask([o["commodities"] for o in rows]),
            "commodities_any": np.array([not o["commodities"] for o in rows], dtype=bool),
            "languages": languages.mask([o["languages"] for o in rows]),
            "women_led_only": np.array([o["women_led_only"] for o in rows], dtype=bool),
            "min_members": np.array([o["min_members"] for o in rows], dtype=np.int64),
            "requires_formal_license": np.array([o["requires_formal_license"] for o in rows],
                                                dtype=bool),
            "active": np.array([o["active"] for o in rows], dtype=bool),
            "capacity": np.array([np.inf if o["capacity"] is None else o["capacity"]
                                  for o in rows], dtype=np.float64),
            "valid_until": np.array([date.fromisoformat(o["valid_until"]).toordinal()
                                     if o.get("valid_until") else np.inf for o in rows],
                                    dtype=np.float64),
            "category": np.array([categories.get(o["category"]) for o in rows], dtype=np.int64),
        }

    def practice_arrays(rows: list[dict]) -> dict[str, np.ndarray]:
        assocs = [assoc_by_id[p["association_id"]] for p in rows]
        return {
            "association": np.array([assoc_index[p["association_id"]] for p in rows],
                                    dtype=np.int64),
            "country": np.array([countries.get(a["country"]) for a in assocs], dtype=np.int64),
            "region": np.array([regions.get(a["region"]) for a in assocs], dtype=np.int64),
            "commodities": commodities.mask([a["commodities"] for a in assocs]),
            "languages": languages.mask([a["languages"] for a in assocs]),
            "category": np.array([categories.get(p["category"]) if p["category"] else -1
                                  for p in rows], dtype=np.int64),
        }

    def block(kind: str, records: list[dict], texts: list[str], make) -> Block:
        arrays = _arrays(records, make, None if earlier is None else (
            earlier[0].block(kind), earlier[1][kind]))
        made = Block(kind=kind, ids=[r["id"] for r in records], records=records, texts=texts,
                     languages=[detect(text) for text in texts],
                     category=arrays.pop("category"))
        made.arrays = arrays
        return made

    return Corpus(
        version=version, ref=ref, categories=categories, regions=regions, countries=countries,
        commodities=commodities, languages=languages, associations=assoc_by_id,
        assoc_index=assoc_index, partners={p["id"]: p for p in partners},
        needs={n["id"]: n for n in needs},
        offerings=block("partner", offerings, [offering_text(o) for o in offerings],
                        offering_arrays),
        practices=block("peer", practices, [p["text"] for p in practices], practice_arrays),
    )


def _arrays(records: list[dict], make: Callable[[list[dict]], dict[str, np.ndarray]],
            earlier: tuple[Block, np.ndarray] | None) -> dict[str, np.ndarray]:
    """``make(records)``; given an earlier block and each record's position there (-1: made
    now), the rows of the others are copied from that block's arrays."""
    if earlier is None:
        return make(records)
    old, source = earlier
    fresh = np.flatnonzero(source < 0)
    made = make([records[i] for i in fresh.tolist()])
    kept = np.flatnonzero(source >= 0)
    out = {}
    for name, values in made.items():
        previous = old.category if name == "category" else old.arrays[name]
        array = np.empty((len(records), *values.shape[1:]), dtype=values.dtype)
        array[kept] = previous[source[kept]]
        array[fresh] = values
        out[name] = array
    return out
