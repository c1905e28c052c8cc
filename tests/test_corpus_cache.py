"""The corpus file next to the database (matcher.ranking.corpus_cache): a write always reaches
the next suggestion, a damaged or stale file is rebuilt and never trusted, and two processes
over one database rank alike. Real model, real SQLite file, real second process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matcher.exchange import Need, Offering, Practice
from matcher.language import detect_language
from matcher.ranking import corpus_cache
from matcher.ranking.corpus import offering_text
from matcher.ranking.embeddings import content_hash
from matcher.ranking.engine import Engine
from matcher.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
NEED = "demo-n-001"  # an association's need about flooding pits and shoring
ALL = 1000  # more than the demo holds: every admissible item comes back


# No scorer is left out for time on a busy machine: the rankings compared must be complete.
BUDGET_MS = 600_000


def _engine(db: Path) -> Engine:
    return Engine(load_settings(db=db, scorer_budget_ms=BUDGET_MS))


def _ranking(engine: Engine, need_id: str, kind: str) -> list[tuple[str, float]]:
    return [(s.item_id, s.score) for s in engine.suggest(need_id, kind, ALL).suggestions]


def _items(engine: Engine, need_id: str, kind: str) -> set[str]:
    return {item for item, _ in _ranking(engine, need_id, kind)}


def _files(db: Path) -> list[Path]:
    return sorted(corpus_cache.cache_folder(db).glob("corpus-*.bin"))


def _without_cache(db: Path, monkeypatch) -> Engine:
    """An engine that builds its corpus from the store alone."""
    monkeypatch.setattr(corpus_cache, "cache_folder", lambda db: None)
    engine = _engine(db)
    engine.corpus()
    monkeypatch.undo()
    return engine


def _an_offering(engine: Engine, **changes) -> tuple[str, Offering]:
    """A copy of the demo's first offering under a new id, and its partner."""
    row = engine.store.get("offerings", "demo-o-001")
    fields = {name: row[name] for name in Offering.model_fields if name in row}
    fields["eligibility"] = {k: row[k] for k in ("women_led_only", "min_members",
                                                 "requires_formal_license")}
    fields.update(id="cache-o-1", capacity=None, **changes)
    return row["partner_id"], Offering.model_validate(fields)


def test_the_corpus_is_saved_next_to_the_database_and_read_back_alike(demo_copy, monkeypatch):
    first = _engine(demo_copy)
    built = first.warm_up()
    assert first.corpus_loaded and len(_files(demo_copy)) == 1
    second = _engine(demo_copy)
    loaded = second.warm_up()
    assert loaded is not built
    # the matrices are views of the mapped file, read-only
    matrix = loaded.offerings.vectors[second.primary_embedder]
    assert not matrix.flags.writeable
    reference = _without_cache(demo_copy, monkeypatch)
    for kind in ("partner", "peer"):
        assert _ranking(second, NEED, kind) == _ranking(reference, NEED, kind) \
            == _ranking(first, NEED, kind)


def test_every_kind_of_write_reaches_the_next_suggestion_of_a_warm_engine_and_a_new_one(
        demo_copy, monkeypatch):
    warm = _engine(demo_copy)
    warm.warm_up()
    association = warm.store.get("needs", NEED)["association_id"]

    def check(present: set[str], absent: set[str], kind: str, need_id: str = NEED) -> None:
        fresh = _engine(demo_copy)  # as another process starting now
        reference = _without_cache(demo_copy, monkeypatch)
        for engine in (warm, fresh):
            items = _items(engine, need_id, kind)
            assert present <= items and not absent & items
            assert _ranking(engine, need_id, kind) == _ranking(reference, need_id, kind)

    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)  # a new offering
    check({"cache-o-1"}, set(), "partner")
    warm.update_record("offerings", offering.model_copy(update={"active": False}))
    check(set(), {"cache-o-1"}, "partner")  # deactivated
    warm.update_record("offerings", offering.model_copy(update={
        "active": True, "description": "Mercury-free gold processing with borax."}))
    check({"cache-o-1"}, set(), "partner")  # edited back in
    warm.store.delete_record("offerings", "cache-o-1")
    check(set(), {"cache-o-1"}, "partner")  # deleted

    practice = Practice(id="cache-pr-1", text="We shore every shaft with eucalyptus timber "
                        "and check the walls after each rain.")
    other = next(a["id"] for a in warm.store.associations() if a["id"] != association)
    warm.create_record("practices", practice, other)
    check({"cache-pr-1"}, set(), "peer")

    need = Need(id="cache-n-1", text="Our pits flood and the walls cave in: we need help "
                "with timbering and pumps.")
    warm.create_record("needs", need, association)  # a new need is suggested for at once
    check({"demo-o-001"}, set(), "partner", need_id="cache-n-1")


def test_a_damaged_corpus_file_is_rebuilt_not_trusted(demo_copy, monkeypatch):
    _engine(demo_copy).warm_up()
    (path,) = _files(demo_copy)
    reference = _ranking(_without_cache(demo_copy, monkeypatch), NEED, "partner")
    raw = bytearray(path.read_bytes())
    damages = {
        "a flipped byte in the vectors": lambda b: b[:-4096] + bytes([b[-4096] ^ 0xFF])
        + b[-4095:],
        "cut short (a crash mid-write)": lambda b: b[:len(b) // 2],
        "empty": lambda b: b"",
        "not a corpus file": lambda b: b"SQLite format 3\x00" + b[16:],
    }
    for why, damage in damages.items():
        path.write_bytes(bytes(damage(bytearray(raw))))
        engine = _engine(demo_copy)
        assert _ranking(engine, NEED, "partner") == reference, why
        # rebuilt, and saved again sound
        key = engine._cache_key(engine.store.corpus_tokens())
        assert corpus_cache.load(path.parent, key) is not None, why


def test_a_file_of_other_data_under_the_current_name_is_not_trusted(demo_copy, monkeypatch):
    warm = _engine(demo_copy)
    warm.warm_up()
    (old,) = _files(demo_copy)
    stale = old.read_bytes()
    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)
    key = warm._cache_key(warm.store.corpus_tokens())
    assert corpus_cache.path_for(old.parent, key) != old  # a write is a new key
    corpus_cache.path_for(old.parent, key).write_bytes(stale)  # the old corpus, renamed
    fresh = _engine(demo_copy)
    assert "cache-o-1" in _items(fresh, NEED, "partner")
    assert _ranking(fresh, NEED, "partner") == _ranking(
        _without_cache(demo_copy, monkeypatch), NEED, "partner")


def test_two_processes_over_one_database_rank_alike(demo_copy):
    warm = _engine(demo_copy)
    warm.warm_up()
    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)  # a write after this one's build
    script = (
        "import json, sys\n"
        "from matcher.ranking.engine import Engine\n"
        "from matcher.settings import load_settings\n"
        f"engine = Engine(load_settings(db=sys.argv[1], scorer_budget_ms={BUDGET_MS}))\n"
        "print(json.dumps({kind: [[s.item_id, s.score] for s in engine.suggest("
        f"{NEED!r}, kind, {ALL}).suggestions] for kind in ('partner', 'peer')}}))\n")
    other = subprocess.run([sys.executable, "-c", script, str(demo_copy)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300, check=True)
    theirs = json.loads(other.stdout.strip().splitlines()[-1])
    for kind in ("partner", "peer"):
        assert [tuple(pair) for pair in theirs[kind]] == _ranking(warm, NEED, kind)
    assert "cache-o-1" in {item for item, _ in theirs["partner"]}


@pytest.mark.parametrize("text, embedded", [
    ("Training on safe shaft timbering for small gold mines.", True),
    ("Formation à l'étayage des puits pour les petites mines d'or artisanales.", False),
])
def test_the_english_model_embeds_english_offerings_only(demo_copy, text, embedded):
    """MiniLM's one scorer speaks only for English candidates (plugins/semantic.py): the
    others are marked as left out, not embedded, and still suggested."""
    engine = _engine(demo_copy)
    partner, offering = _an_offering(engine, title="Shaft timbering", description=text)
    engine.create_record("offerings", offering, partner)
    digest = content_hash(offering_text(offering.model_dump()))
    assert detect_language(offering_text(offering.model_dump())) != "en" or embedded
    stored = {name for name, e in engine.embedders.items()
              if engine.store.known_hashes(name, e.model_id, among=[digest], vectors_only=True)}
    assert ("minilm" in stored) is embedded
    assert stored >= set(engine.embedders) - {"minilm"}
    # left out on purpose, and known to be: nothing is missing, nothing to embed again
    assert engine.embedding_status().missing == 0
    assert engine.sync_embeddings() == 0
    assert "cache-o-1" in _items(engine, NEED, "partner")  # suggested either way


def _reads(engine: Engine, monkeypatch) -> list[tuple[str, frozenset[str] | None]]:
    """The records the engine reads from here on to build its corpus: (table, ids or None
    for the whole table)."""
    read: list[tuple[str, frozenset[str] | None]] = []
    original = engine.store.corpus_rows

    def recording(table, ids=None):
        read.append((table, None if ids is None else frozenset(ids)))
        return original(table, ids)

    monkeypatch.setattr(engine.store, "corpus_rows", recording)
    return read


def test_after_a_write_only_the_changed_records_are_read(demo_copy, monkeypatch):
    warm = _engine(demo_copy)
    warm.warm_up()
    read = _reads(warm, monkeypatch)
    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)
    row = warm.store.get("needs", NEED)
    warm.update_record("needs", Need.model_validate(
        {**{k: row[k] for k in Need.model_fields if k in row},
         "text": "Our pits flood after every rain."}))

    corpus = warm.corpus()

    assert corpus.extra["updated_records"] == 2
    assert read and all(ids is not None for _, ids in read)  # no table read whole
    assert {ids for table, ids in read if ids} == {frozenset({"cache-o-1"}), frozenset({NEED})}
    reference = _without_cache(demo_copy, monkeypatch)
    for kind in ("partner", "peer"):
        assert _ranking(warm, NEED, kind) == _ranking(reference, NEED, kind)


def test_a_new_process_updates_the_newest_corpus_file_rather_than_build(demo_copy, monkeypatch):
    _engine(demo_copy).warm_up()  # saves the file
    writer = _engine(demo_copy)
    partner, offering = _an_offering(writer)
    writer.store.create_record("offerings", offering, partner,
                               vectors=writer.vectors.vectors_of("offerings", offering))
    fresh = _engine(demo_copy)
    read = _reads(fresh, monkeypatch)

    corpus = fresh.warm_up()

    assert corpus.extra["updated_records"] == 1
    assert sorted(read) == [("needs", frozenset()), ("offerings", frozenset({"cache-o-1"})),
                            ("practices", frozenset())]
    assert "cache-o-1" in _items(fresh, NEED, "partner")
    assert _ranking(fresh, NEED, "partner") == _ranking(
        _without_cache(demo_copy, monkeypatch), NEED, "partner")


def test_a_change_to_an_association_builds_the_corpus_whole(demo_copy, monkeypatch):
    warm = _engine(demo_copy)
    warm.warm_up()
    read = _reads(warm, monkeypatch)
    association = warm.store.get("needs", NEED)["association_id"]
    warm.store.db.execute("update associations set country = 'PE' where id = :id",
                          {"id": association})  # as an import would; then a new version
    with warm.store.writing():
        warm.store._bump_version()

    warm.corpus()

    assert ("needs", None) in read and ("practices", None) in read
    reference = _without_cache(demo_copy, monkeypatch)
    assert _ranking(warm, NEED, "peer") == _ranking(reference, NEED, "peer")


def _same_corpus(updated, whole) -> None:
    """Every part a request reads is equal, value for value."""
    for kind in ("partner", "peer"):
        a, b = updated.block(kind), whole.block(kind)
        assert (a.ids, a.texts, a.languages) == (b.ids, b.texts, b.languages)
        assert np.array_equal(a.category, b.category)
        assert sorted(a.arrays) == sorted(b.arrays) and sorted(a.vectors) == sorted(b.vectors)
        for name in a.arrays:
            assert np.array_equal(a.arrays[name], b.arrays[name]), (kind, name)
        for name in a.vectors:
            assert np.array_equal(a.vectors[name], b.vectors[name]), (kind, name)
    assert list(updated.needs) == list(whole.needs)
    for need_id, (probs, given) in whole.extra["need_category"].items():
        held, held_given = updated.extra["need_category"][need_id]
        assert np.array_equal(held, probs) and held_given == given, need_id
    for name, vectors in whole.need_vectors.items():
        assert all(np.array_equal(updated.need_vectors[name][i], v) for i, v in vectors.items())


def _offering_fields(engine: Engine, offering_id: str) -> dict:
    row = engine.store.get("offerings", offering_id)
    fields = {name: row[name] for name in Offering.model_fields if name in row}
    fields["eligibility"] = {k: row[k] for k in ("women_led_only", "min_members",
                                                 "requires_formal_license")}
    return fields


def test_an_updated_corpus_equals_one_built_whole_part_for_part(demo_copy, monkeypatch):
    warm = _engine(demo_copy)
    previous = warm.warm_up()
    # writes that change no label: the category models stay, and so do the values of the
    # texts they inferred before
    fields = _offering_fields(warm, "demo-o-002")
    warm.update_record("offerings", Offering.model_validate(  # the same text, other fields
        {**fields, "active": not fields["active"], "regions": []}))
    row = next(n for n in warm.store.corpus_rows("needs") if not n["category"])
    warm.update_record("needs", Need.model_validate(  # an unlabelled need's text changed
        {**{k: row[k] for k in Need.model_fields if k in row},
         "text": "Our pits flood after every rain."}))
    other = next(a["id"] for a in warm.store.associations())
    warm.create_record("practices", Practice(  # a new unlabelled practice
        id="cache-pr-2", text="We pump the pits dry with a shared diesel pump."), other)

    updated = warm.corpus()
    from_file = _engine(demo_copy).warm_up()  # a new process: the file, brought up to date

    assert updated.extra["updated_records"] == from_file.extra["updated_records"] == 3
    assert updated.extra["category_keys"] == previous.extra["category_keys"]
    whole = _without_cache(demo_copy, monkeypatch).corpus()
    _same_corpus(updated, whole)
    _same_corpus(from_file, whole)
    name = warm.primary_embedder  # the offerings' texts are as they were: their matrix kept
    assert updated.offerings.vectors[name] is previous.offerings.vectors[name]

    # writes that change labels (the models are trained again) and add a labelled text
    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)
    practices = warm.store.corpus_rows("practices")
    labelled = next(p for p in practices if p["category"])
    unlabelled = next(p for p in practices if not p["category"])
    warm.update_record("practices", Practice(  # a label taken away: inferred now
        id=labelled["id"], text=labelled["text"]))
    warm.update_record("practices", Practice(  # a label given: inferred no more
        id=unlabelled["id"], text=unlabelled["text"], category=labelled["category"]))
    warm.store.delete_record("practices", next(  # the rows after it move up
        p["id"] for p in practices if p["id"] not in (labelled["id"], unlabelled["id"])))

    again = warm.corpus()

    assert again.extra["category_keys"] != updated.extra["category_keys"]
    _same_corpus(again, _without_cache(demo_copy, monkeypatch).corpus())


def test_a_write_that_keeps_every_text_copies_no_matrix(demo_copy):
    warm = _engine(demo_copy)
    previous = warm.warm_up()
    fields = _offering_fields(warm, "demo-o-001")

    warm.update_record("offerings", Offering.model_validate({**fields, "capacity": 3}))
    updated = warm.corpus()

    assert updated.extra["updated_records"] == 1
    assert updated.offerings.arrays["capacity"][updated.offerings.position["demo-o-001"]] == 3
    for name, matrix in previous.offerings.vectors.items():
        assert updated.offerings.vectors[name] is matrix
    # a scorer of some languages (MiniLM's, English) keeps its copy of their rows too
    own = [(name, state) for name, state in previous.offerings.state.items()
           if isinstance(state, dict) and "own_rows" in state]
    assert own
    for name, state in own:
        assert updated.offerings.state[name]["own_rows"] is state["own_rows"]


def test_a_corpus_saved_after_writes_is_read_by_a_new_process_as_it_is(demo_copy,
                                                                      monkeypatch):
    warm = _engine(demo_copy)
    warm.warm_up()
    partner, offering = _an_offering(warm)
    warm.create_record("offerings", offering, partner)
    assert warm.corpus().extra["updated_records"] == 1  # brought up to date, not saved
    assert _engine(demo_copy).warm_up().extra.get("updated_records") == 1

    path = warm.save_corpus()

    assert path is not None and _files(demo_copy) == [path]
    fresh = _engine(demo_copy)
    read = _reads(fresh, monkeypatch)
    fresh.warm_up()
    assert read == []  # read as it is: no record read to bring it up to date
    assert "cache-o-1" in _items(fresh, NEED, "partner")


def test_a_new_process_suggests_from_the_corpus_file_without_the_libraries_that_build_it(
        demo_copy):
    """scikit-learn trains the category model, bm25s (with numba) indexes the texts, alembic
    migrates the schema: reading a current corpus and ranking need none of them (together
    about 1.3 s of a server's start). What a first suggestion needs, the warm-up loads: it
    imports nothing more (numpy.ma, imported by a first np.median, took 0.3 s of one at
    100k beside a busy thread)."""
    _engine(demo_copy).warm_up()  # saves the corpus file
    script = (
        "import json, sys\n"
        "from matcher import language\n"
        "from matcher.ranking.engine import Engine\n"
        "from matcher.settings import load_settings\n"
        f"engine = Engine(load_settings(db=sys.argv[1], scorer_budget_ms={BUDGET_MS}))\n"
        "engine.warm_up()\n"
        "language.load()\n"  # its model loads beside the corpus: wait for that thread
        "before = set(sys.modules)\n"
        f"found = [s.item_id for kind in ('partner', 'peer')\n"
        f"         for s in engine.suggest({NEED!r}, kind, 5).suggestions]\n"
        "print(json.dumps({'found': found, 'imported': sorted(set(sys.modules) - before),\n"
        "                  'loaded': sorted({m.split('.')[0] for m in sys.modules}\n"
        "                                   & {'sklearn', 'bm25s', 'numba', 'alembic'}),\n"
        "                  'lang': language.detect_language(\n"
        "                      'Nous voulons arrêter le mercure dans nos mines.')}))\n")
    other = subprocess.run([sys.executable, "-c", script, str(demo_copy)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(other.stdout.strip().splitlines()[-1])
    assert out["found"] and out["loaded"] == [] and out["lang"] == "fr"
    assert out["imported"] == []
