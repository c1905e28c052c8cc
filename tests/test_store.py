"""The store: upsert by id, idempotent, all-or-nothing imports, and faithful exports."""

from __future__ import annotations

import copy
import json

import pytest

from matcher.errors import InvalidInput
from matcher.exchange import dump_document, parse_document
from matcher.reference import default_data_dir
from matcher.store import Store

DATA = default_data_dir()
DEMO = DATA / "demo.json"
TABLES = ("partners", "offerings", "associations", "needs", "practices")


def demo_raw() -> dict:
    return json.loads(DEMO.read_bytes())


def import_document(store, ref, data):
    if isinstance(data, dict):
        data = json.dumps(data)
    return store.import_exchange(parse_document(data, ref))


def snapshot(store) -> tuple:
    return (store.counts(), store.data_version(), dump_document(store.export_exchange()))


def with_defaults(raw: dict) -> dict:
    """The demo document as FORMAT.md reads it: omitted fields take their documented defaults
    and a missing region is the one of the association's country (``data/countries.json``)."""
    regions = json.loads((DATA / "countries.json").read_bytes())
    doc = copy.deepcopy(raw)
    for partner in doc["partners"]:
        partner.setdefault("type", "other")
        partner.setdefault("description", "")
        partner.setdefault("languages", [])
        for offering in partner.setdefault("offerings", []):
            for key in ("regions", "countries", "languages", "commodities"):
                offering.setdefault(key, [])
            offering.setdefault("description", "")
            offering.setdefault("capacity", None)
            eligibility = offering.setdefault("eligibility", {})
            eligibility.setdefault("women_led_only", False)
            eligibility.setdefault("min_members", 0)
            eligibility.setdefault("requires_formal_license", False)
            if offering.get("active", True):
                offering.pop("active", None)  # written only when false
    for assoc in doc["associations"]:
        if assoc.get("region") is None:
            assoc["region"] = regions[assoc["country"]]
        for key in ("languages", "commodities"):
            assoc.setdefault(key, [])
        assoc.setdefault("members", 0)
        assoc.setdefault("women_led", False)
        assoc.setdefault("formal_license", False)
        assoc.setdefault("description", "")
        for key in ("needs", "practices"):
            for item in assoc.setdefault(key, []):
                item.setdefault("category", None)
    return doc


@pytest.fixture
def demo_store(store, ref):
    import_document(store, ref, DEMO.read_bytes())
    return store


# ---------------------------------------------------------------------------- import
def test_first_import_inserts_every_record(store, ref):
    raw = demo_raw()
    report = import_document(store, ref, raw)
    expected = {
        "partners": len(raw["partners"]),
        "offerings": sum(len(p["offerings"]) for p in raw["partners"]),
        "associations": len(raw["associations"]),
        "needs": sum(len(a["needs"]) for a in raw["associations"]),
        "practices": sum(len(a["practices"]) for a in raw["associations"]),
    }
    assert report.inserted == expected
    assert sum(report.updated.values()) == sum(report.unchanged.values()) == 0
    assert {t: store.counts()[t] for t in TABLES} == expected
    assert store.data_version() == 1


def test_importing_the_same_document_twice_changes_nothing(demo_store, ref):
    before = snapshot(demo_store)
    report = import_document(demo_store, ref, DEMO.read_bytes())
    assert not report.changed
    assert sum(report.inserted.values()) == 0
    assert sum(report.updated.values()) == 0
    assert report.unchanged == {t: before[0][t] for t in TABLES}
    assert snapshot(demo_store) == before


def test_import_upserts_by_id(demo_store, ref):
    doc = demo_raw()
    need = doc["associations"][0]["needs"][0]
    need["text"] = "Our pits flood every year; we need pumps and shoring advice."
    doc["partners"][0]["offerings"][0]["capacity"] = 99
    doc["associations"][0]["needs"].append({"id": "test-n-new", "text": "A brand new need."})
    version = demo_store.data_version()

    report = import_document(demo_store, ref, doc)

    assert report.inserted["needs"] == 1 and report.updated["needs"] == 1
    assert report.updated["offerings"] == 1 and report.inserted["offerings"] == 0
    assert sum(report.updated.values()) == 2 and sum(report.inserted.values()) == 1
    assert demo_store.get("needs", need["id"])["text"] == need["text"]
    assert demo_store.get("offerings", doc["partners"][0]["offerings"][0]["id"])["capacity"] == 99
    assert demo_store.get("needs", "test-n-new")["association_id"] == doc["associations"][0]["id"]
    assert demo_store.data_version() == version + 1
    assert demo_store.versions() == (version + 1, demo_store.evidence_version())


def test_records_absent_from_a_later_import_are_kept(demo_store, ref):
    small = {"partners": [], "associations": [demo_raw()["associations"][0]]}
    before = demo_store.counts()
    report = import_document(demo_store, ref, small)
    assert not report.changed
    assert demo_store.counts() == before


def test_a_change_of_category_alone_is_an_update(demo_store, ref):
    doc = demo_raw()
    need = doc["associations"][0]["needs"][0]
    need["category"] = "environment" if need.get("category") != "environment" else "ohs"
    report = import_document(demo_store, ref, doc)
    assert report.updated["needs"] == 1
    assert demo_store.get("needs", need["id"])["category"] == need["category"]


def test_setting_an_offering_inactive_is_stored_and_exported(demo_store, ref):
    doc = demo_raw()
    offering = doc["partners"][0]["offerings"][0]
    offering["active"] = False
    import_document(demo_store, ref, doc)
    assert demo_store.get("offerings", offering["id"])["active"] is False
    exported = dump_document(demo_store.export_exchange())
    assert exported["partners"][0]["offerings"][0]["active"] is False


def test_a_need_may_not_move_to_another_association(demo_store, ref):
    doc = demo_raw()
    doc["partners"][0]["name"] = "A valid change that must not be written"
    moved = doc["associations"][0]["needs"].pop(0)
    doc["associations"][-1]["needs"].append(moved)
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, doc)
    assert info.value.record == moved["id"] and info.value.field == "id"
    assert doc["associations"][0]["id"] in str(info.value)
    assert snapshot(demo_store) == before


def test_an_offering_may_not_move_to_another_partner(demo_store, ref):
    doc = demo_raw()
    moved = doc["partners"][0]["offerings"].pop(0)
    doc["partners"][-1]["offerings"].append(moved)
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, doc)
    assert info.value.record == moved["id"] and info.value.field == "id"
    assert snapshot(demo_store) == before


def test_a_practice_may_not_move_to_another_association(demo_store, ref):
    doc = demo_raw()
    moved = doc["associations"][0]["practices"].pop(0)
    doc["associations"][-1]["practices"].append(moved)
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, doc)
    assert info.value.record == moved["id"]
    assert snapshot(demo_store) == before


def test_a_bad_last_need_leaves_the_store_as_it_was(demo_store, ref):
    doc = demo_raw()
    doc["associations"][0]["needs"][0]["text"] = "changed, and must not be written"
    doc["associations"][-1]["needs"][-1]["members"] = 3
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, doc)
    assert info.value.record == doc["associations"][-1]["needs"][-1]["id"]
    assert info.value.field == "members"
    assert snapshot(demo_store) == before


def test_a_failed_transaction_is_rolled_back_whole(demo_store):
    before = snapshot(demo_store)
    with pytest.raises(RuntimeError), demo_store.transaction() as db:
        db.insert("partners", {"id": "test-p-x", "name": "X", "type": "ngo",
                               "description": "", "languages": "[]"}, returning=None)
        db.execute("delete from needs")
        raise RuntimeError("fail after two writes")
    assert snapshot(demo_store) == before


def test_the_import_is_atomic_for_other_connections(demo_store, ref):
    """Another connection sees the store before the import or after it, never half of it."""
    other = Store(demo_store.target)
    try:
        doc = demo_raw()
        doc["associations"][0]["needs"].append({"id": "test-n-1", "text": "one"})
        doc["partners"][0]["offerings"].append(
            {"id": "test-o-1", "title": "two", "category": "ohs"})
        with demo_store.transaction():
            demo_store.import_exchange(parse_document(json.dumps(doc), ref))
            assert other.get("needs", "test-n-1") is None
            assert other.get("offerings", "test-o-1") is None
        assert other.get("needs", "test-n-1") is not None
        assert other.get("offerings", "test-o-1") is not None
    finally:
        other.close()


# ---------------------------------------------------------------------------- export
def test_export_equals_the_demo_document_modulo_region_inference(demo_store):
    assert dump_document(demo_store.export_exchange()) == with_defaults(demo_raw())


def test_export_infers_the_region_of_associations_that_had_none(demo_store):
    regions = json.loads((DATA / "countries.json").read_bytes())
    missing = [a for a in demo_raw()["associations"] if a.get("region") is None]
    exported = {a.id: a for a in demo_store.export_exchange().associations}
    for assoc in missing:
        assert exported[assoc["id"]].region == regions[assoc["country"]]


def test_import_export_import_round_trips(demo_store, ref, tmp_path):
    first = dump_document(demo_store.export_exchange())
    other = Store(tmp_path / "second.db")
    try:
        report = import_document(other, ref, first)
        assert sum(report.inserted.values()) == sum(demo_store.counts()[t] for t in TABLES)
        second = dump_document(other.export_exchange())
        assert second == first
        again = import_document(other, ref, second)
        assert not again.changed
    finally:
        other.close()


def test_export_keeps_the_order_of_the_document(demo_store):
    raw = demo_raw()
    exported = dump_document(demo_store.export_exchange())
    assert [p["id"] for p in exported["partners"]] == [p["id"] for p in raw["partners"]]
    assert [[o["id"] for o in p["offerings"]] for p in exported["partners"]] == \
        [[o["id"] for o in p["offerings"]] for p in raw["partners"]]
    assert [[n["id"] for n in a["needs"]] for a in exported["associations"]] == \
        [[n["id"] for n in a["needs"]] for a in raw["associations"]]


def test_a_store_reopened_from_its_file_holds_the_same_data(demo_store):
    before = snapshot(demo_store)
    again = Store(demo_store.target)
    try:
        assert snapshot(again) == before
    finally:
        again.close()


def test_get_reads_one_record_and_refuses_unknown_tables(demo_store):
    raw = demo_raw()
    assoc = demo_store.get("associations", raw["associations"][0]["id"])
    assert assoc["name"] == raw["associations"][0]["name"]
    assert assoc["commodities"] == raw["associations"][0]["commodities"]
    assert isinstance(assoc["women_led"], bool)
    assert demo_store.get("needs", "no-such-need") is None
    with pytest.raises(ValueError):
        demo_store.get("vectors; drop table needs", "x")


# ---------------------------------------------------------------------------- vectors
def test_a_corpus_sized_vector_read_returns_exactly_the_vectors_asked_for(store):
    """Past a few thousand hashes the read takes one pass over the embedder's rows: the same
    vectors as the lookups, none of another embedder's, none not asked for."""
    import numpy as np

    rng = np.random.default_rng(7)
    hashes = [f"h{i:05d}" for i in range(2600)]
    mine, other = rng.random((2500, 8), dtype=np.float32), rng.random((2600, 8), dtype=np.float32)
    store.save_vectors("mine", hashes[:2500], mine, model="m")
    store.save_vectors("other", hashes, other, model="m")

    asked = hashes[100:] + hashes[100:110]  # 2,500 distinct: 2,400 stored, 100 never made
    many = store.vectors_by_hash("mine", asked)
    few = store.vectors_by_hash("mine", hashes[100:150])

    assert set(many) == set(hashes[100:2500])
    assert all(np.array_equal(many[h], mine[int(h[1:])]) for h in many)
    assert set(few) == set(hashes[100:150])
    assert all(np.array_equal(few[h], many[h]) for h in few)


def test_the_change_log_names_the_records_written_since_a_data_token(store, ref):
    import_document(store, ref, demo_raw())
    token = store.corpus_tokens()["data_token"]
    assert store.corpus_changes(token) == {}
    raw = demo_raw()
    offering = raw["partners"][0]["offerings"][0]
    offering["description"] = "Changed for the change log."
    needs = raw["associations"][0]["needs"]
    needs.append(dict(needs[0], id="log-n-1"))
    import_document(store, ref, raw)
    assert store.corpus_changes(token) == {"offerings": {offering["id"]}, "needs": {"log-n-1"}}
    later = store.corpus_tokens()["data_token"]
    store.delete_record("needs", "log-n-1")
    assert store.corpus_changes(later) == {"needs": {"log-n-1"}}
    assert store.corpus_changes("a token of no version") is None  # read everything again


def test_an_erasure_leaves_no_record_id_in_the_change_log(store, ref):
    import_document(store, ref, demo_raw())
    token = store.corpus_tokens()["data_token"]
    association = demo_raw()["associations"][0]["id"]
    store.delete_association(association, lambda: set())
    assert store.corpus_changes(token) is None  # every corpus before it is built whole
    logged = {row[0] for row in store.db.execute(
        "select record_id from corpus_changes where tbl <> 'version'").all()}
    assert logged == {""}
