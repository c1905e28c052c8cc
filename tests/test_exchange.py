"""The exchange format: validation of every kind of bad input, all or nothing.

Every bad document below is the demo document with one valid change near the top (the first
need's text) and one bad value near the end (usually in the last record), imported into a store
that already holds the demo. Nothing may be written: not the bad record, not the valid change.
"""

from __future__ import annotations

import copy
import json

import pytest

from matcher.errors import InvalidInput
from matcher.exchange import MAX_TEXT, dump_document, parse_document
from matcher.reference import default_data_dir

DEMO = default_data_dir() / "demo.json"


def demo_raw() -> dict:
    return json.loads(DEMO.read_bytes())


def import_document(store, ref, data):
    return store.import_exchange(parse_document(data, ref))


def snapshot(store) -> tuple:
    return (store.counts(), store.data_version(), dump_document(store.export_exchange()))


@pytest.fixture
def demo_store(store, ref):
    """An empty temporary store with the demo document imported (no embeddings needed)."""
    import_document(store, ref, DEMO.read_bytes())
    return store


def last_assoc(doc):
    return doc["associations"][-1]


def last_need(doc):
    return doc["associations"][-1]["needs"][-1]


def last_partner(doc):
    return doc["partners"][-1]


def last_offering(doc):
    return doc["partners"][-1]["offerings"][-1]


def _set(getter, key, value):
    def mutate(doc):
        getter(doc)[key] = value
    return mutate


def _pop(getter, key):
    def mutate(doc):
        getter(doc).pop(key)
    return mutate


def _need_id_twice_in_one_association(doc):
    assoc = last_assoc(doc)
    assoc["needs"][-1]["id"] = assoc["needs"][0]["id"]


def _offering_id_twice_across_partners(doc):
    last_offering(doc)["id"] = doc["partners"][0]["offerings"][0]["id"]


def _association_id_twice(doc):
    last_assoc(doc)["id"] = doc["associations"][0]["id"]


def _partner_id_twice(doc):
    last_partner(doc)["id"] = doc["partners"][0]["id"]


def _need_id_also_used_by_another_association(doc):
    last_need(doc)["id"] = doc["associations"][0]["needs"][0]["id"]


# (case, mutation, the record the error must name (None: read from the document), the field)
BAD_RECORDS = [
    ("unknown need category", _set(last_need, "category", "mining"), "last_need", "category"),
    ("unknown association region", _set(last_assoc, "region", "europe"), "last_assoc", "region"),
    ("unknown offering region", _set(last_offering, "regions", ["europe"]), "last_offering",
     "regions"),
    ("unknown association commodity", _set(last_assoc, "commodities", ["uranium"]), "last_assoc",
     "commodities"),
    ("unknown offering commodity", _set(last_offering, "commodities", ["gold", "uranium"]),
     "last_offering", "commodities"),
    ("unknown offering category", _set(last_offering, "category", "charity"), "last_offering",
     "category"),
    ("unknown partner type", _set(last_partner, "type", "charity"), "last_partner", "type"),
    ("members as a string", _set(last_assoc, "members", "120"), "last_assoc", "members"),
    ("members as a boolean", _set(last_assoc, "members", True), "last_assoc", "members"),
    ("negative members", _set(last_assoc, "members", -1), "last_assoc", "members"),
    ("women_led as 'yes'", _set(last_assoc, "women_led", "yes"), "last_assoc", "women_led"),
    ("formal_license as 1", _set(last_assoc, "formal_license", 1), "last_assoc",
     "formal_license"),
    ("fractional capacity", _set(last_offering, "capacity", 2.5), "last_offering", "capacity"),
    ("negative capacity", _set(last_offering, "capacity", -1), "last_offering", "capacity"),
    ("min_members as a string",
     lambda d: last_offering(d).setdefault("eligibility", {}).__setitem__("min_members", "3"),
     "last_offering", "min_members"),
    ("active as 'no'", _set(last_offering, "active", "no"), "last_offering", "active"),
    ("need text as null", _set(last_need, "text", None), "last_need", "text"),
    ("blank need text", _set(last_need, "text", "   "), "last_need", "text"),
    ("1 MB need text", _set(last_need, "text", "water in the pit " * 62_000), "last_need",
     "text"),
    ("1 MB partner description", _set(last_partner, "description", "x" * 1_000_000),
     "last_partner", "description"),
    ("100 kB association name", _set(last_assoc, "name", "n" * 100_000), "last_assoc", "name"),
    ("language name instead of code", _set(last_assoc, "languages", ["English"]), "last_assoc",
     "languages"),
    ("unknown field on a need", _set(last_need, "priority", "high"), "last_need", "priority"),
    ("unknown field on an association", _set(last_assoc, "website", "https://x"), "last_assoc",
     "website"),
    ("unknown field in eligibility",
     lambda d: last_offering(d).setdefault("eligibility", {}).__setitem__("age_limit", 18),
     "last_offering", "age_limit"),
    ("lower-case country", _set(last_assoc, "country", "mm"), "last_assoc", "country"),
    ("alpha-3 country", _set(last_assoc, "country", "MMR"), "last_assoc", "country"),
    ("unassigned country XX", _set(last_assoc, "country", "XX"), "last_assoc", "country"),
    ("numeric region code as a country", _set(last_offering, "countries", ["001"]),
     "last_offering", "countries"),
    ("need id with a space", _set(last_need, "id", "n 61"), "n 61", "id"),
    ("need id as a number", _set(last_need, "id", 61), "last_assoc", "id"),
    ("two needs with one id", _need_id_twice_in_one_association, "first_need_of_last_assoc",
     "id"),
    ("a need id used by two associations", _need_id_also_used_by_another_association,
     "first_need", "id"),
    ("an offering id twice across partners", _offering_id_twice_across_partners,
     "first_offering", "id"),
    ("two associations with one id", _association_id_twice, "first_assoc", "id"),
    ("two partners with one id", _partner_id_twice, "first_partner", "id"),
]


def _resolve(name: str, doc: dict) -> str:
    ids = {
        "last_need": lambda: last_need(doc)["id"],
        "last_assoc": lambda: last_assoc(doc)["id"],
        "last_offering": lambda: last_offering(doc)["id"],
        "last_partner": lambda: last_partner(doc)["id"],
        "first_need": lambda: doc["associations"][0]["needs"][0]["id"],
        "first_need_of_last_assoc": lambda: last_assoc(doc)["needs"][0]["id"],
        "first_offering": lambda: doc["partners"][0]["offerings"][0]["id"],
        "first_assoc": lambda: doc["associations"][0]["id"],
        "first_partner": lambda: doc["partners"][0]["id"],
    }
    return ids[name]() if name in ids else name


def _with_valid_change_first(doc: dict) -> dict:
    doc["associations"][0]["needs"][0]["text"] = "A valid change that must not be written either."
    doc["partners"][0]["name"] = "Renamed partner that must not be written"
    return doc


@pytest.mark.parametrize("case, mutate, record, field", BAD_RECORDS,
                         ids=[case for case, *_ in BAD_RECORDS])
def test_bad_record_is_rejected_naming_record_and_field_and_nothing_is_written(
        demo_store, ref, case, mutate, record, field):
    original = demo_raw()
    doc = _with_valid_change_first(copy.deepcopy(original))
    mutate(doc)
    before = snapshot(demo_store)

    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, json.dumps(doc))

    expected = _resolve(record, original if record.startswith("last") else doc)
    assert info.value.record == expected, str(info.value)
    assert info.value.field is not None and info.value.field.endswith(field), str(info.value)
    assert repr(expected) in str(info.value) and field in str(info.value)
    assert snapshot(demo_store) == before


@pytest.mark.parametrize("code", ["ZZ", "EU", "UN", "QO"])
def test_codes_that_are_not_iso_3166_countries_are_rejected(store, ref, code):
    """CLDR territories such as ZZ (unknown region), EU and UN are not ISO 3166-1 countries."""
    doc = demo_raw()
    last_offering(doc)["countries"] = ["GH", code]
    with pytest.raises(InvalidInput) as info:
        import_document(store, ref, json.dumps(doc))
    assert info.value.record == last_offering(doc)["id"]
    assert info.value.field == "countries"
    assert store.counts()["offerings"] == 0


def test_association_with_an_invalid_country_and_a_region_is_rejected(store, ref):
    doc = demo_raw()
    last_assoc(doc).update(country="ZZ", region="southeast_asia_pacific")
    with pytest.raises(InvalidInput) as info:
        import_document(store, ref, json.dumps(doc))
    assert (info.value.record, info.value.field) == (last_assoc(doc)["id"], "country")
    assert store.counts()["associations"] == 0


def test_the_last_need_of_the_last_association_bad_means_nothing_imported_into_empty_store(
        store, ref):
    doc = demo_raw()
    last_need(doc)["category"] = "not-a-category"
    with pytest.raises(InvalidInput) as info:
        import_document(store, ref, json.dumps(doc))
    assert info.value.record == last_need(doc)["id"]
    assert info.value.field == "category"
    assert all(count == 0 for count in store.counts().values())
    assert store.data_version() == 0


def test_missing_need_id_is_rejected_and_nothing_written(demo_store, ref):
    doc = _with_valid_change_first(demo_raw())
    del last_need(doc)["id"]
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput) as info:
        import_document(demo_store, ref, json.dumps(doc))
    assert info.value.field is not None and info.value.field.endswith("id")
    assert snapshot(demo_store) == before


def test_missing_need_id_points_at_the_needs_of_its_association(ref):
    """'record demo-a-23 field id' would send the reader to the association's own id, which is
    there; the error must say that it is one of the association's needs that has no id."""
    doc = demo_raw()
    del last_need(doc)["id"]
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps(doc), ref)
    assert info.value.record == last_assoc(doc)["id"]
    assert "needs" in (info.value.field or ""), str(info.value)
    assert info.value.field.endswith("id")


def test_missing_association_id_says_which_association(ref):
    doc = demo_raw()
    position = len(doc["associations"]) - 1
    del last_assoc(doc)["id"]
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps(doc), ref)
    message = str(info.value)
    assert (info.value.field or "").endswith("id")
    assert "associations" in message and str(position) in message, message


def test_missing_offering_id_is_rejected(ref):
    doc = demo_raw()
    del last_offering(doc)["id"]
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps(doc), ref)
    assert info.value.field is not None and info.value.field.endswith("id")
    assert info.value.record == last_partner(doc)["id"]


@pytest.mark.parametrize("data", [
    b'{"partners": [', b"{'partners': []}", b'{"partners": []} trailing', b"\xff\xfe\x00",
    b"", b"   ",
])
def test_malformed_json_is_rejected_and_nothing_written(demo_store, ref, data):
    before = snapshot(demo_store)
    with pytest.raises(InvalidInput, match="malformed JSON"):
        import_document(demo_store, ref, data)
    assert snapshot(demo_store) == before


@pytest.mark.parametrize("data", [b"[]", b"null", b'"partners"', b"42"])
def test_a_document_that_is_not_an_object_is_rejected(ref, data):
    with pytest.raises(InvalidInput, match="JSON object"):
        parse_document(data, ref)


@pytest.mark.parametrize("key", ["partners", "associations"])
def test_top_level_lists_must_be_lists(ref, key):
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps({key: {"id": "x"}}), ref)
    assert info.value.field == key


def test_unknown_top_level_field_is_rejected(ref):
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps({"partners": [], "associations": [], "qrels": {}}), ref)
    assert info.value.field == "qrels"


def test_region_is_inferred_from_the_country_when_missing(ref):
    regions = json.loads((default_data_dir() / "countries.json").read_bytes())
    doc = demo_raw()
    for assoc in doc["associations"]:
        assoc.pop("region", None)
    parsed = parse_document(json.dumps(doc), ref)
    assert [a.region for a in parsed.associations] == [
        regions[a["country"]] for a in doc["associations"]]
    assert {a.region for a in parsed.associations} > {"africa_anglophone"}


def test_given_region_is_kept(ref):
    doc = demo_raw()
    last_assoc(doc)["region"] = "south_central_asia"  # MM is in southeast_asia_pacific
    parsed = parse_document(json.dumps(doc), ref)
    assert parsed.associations[-1].region == "south_central_asia"


def test_missing_region_of_a_country_in_no_network_is_rejected(ref):
    doc = demo_raw()
    last_assoc(doc).pop("region", None)
    last_assoc(doc)["country"] = "FR"
    with pytest.raises(InvalidInput) as info:
        parse_document(json.dumps(doc), ref)
    assert (info.value.record, info.value.field) == (last_assoc(doc)["id"], "region")


def test_text_at_the_size_limit_is_accepted_and_one_more_character_is_not(ref):
    doc = demo_raw()
    last_need(doc)["text"] = "a" * MAX_TEXT
    assert parse_document(json.dumps(doc), ref).associations[-1].needs[-1].text == "a" * MAX_TEXT
    last_need(doc)["text"] = "a" * (MAX_TEXT + 1)
    with pytest.raises(InvalidInput):
        parse_document(json.dumps(doc), ref)


def test_optional_fields_take_their_documented_defaults(ref):
    doc = {"partners": [{"id": "p-1", "name": "P", "offerings": [
               {"id": "o-1", "title": "T", "category": "ohs"}]}],
           "associations": [{"id": "a-1", "name": "A", "country": "GH",
                             "needs": [{"id": "n-1", "text": "help"}]}]}
    out = dump_document(parse_document(json.dumps(doc), ref))
    offering = out["partners"][0]["offerings"][0]
    assert offering["regions"] == offering["countries"] == offering["commodities"] == []
    assert offering["eligibility"] == {"women_led_only": False, "min_members": 0,
                                       "requires_formal_license": False}
    assert offering["capacity"] is None and "active" not in offering
    assert out["partners"][0]["type"] == "other"
    assoc = out["associations"][0]
    assert assoc["region"] == "africa_anglophone"
    assert (assoc["members"], assoc["women_led"], assoc["formal_license"]) == (0, False, False)
    assert assoc["needs"][0]["category"] is None


def test_dump_writes_active_only_when_false(ref):
    doc = demo_raw()
    last_offering(doc)["active"] = False
    doc["partners"][0]["offerings"][0]["active"] = True
    out = dump_document(parse_document(json.dumps(doc), ref))
    assert out["partners"][-1]["offerings"][-1]["active"] is False
    assert "active" not in out["partners"][0]["offerings"][0]


def test_parse_accepts_bytes_text_and_a_dict_alike(ref):
    raw = DEMO.read_bytes()
    as_bytes = dump_document(parse_document(raw, ref))
    assert dump_document(parse_document(raw.decode("utf-8"), ref)) == as_bytes
    assert dump_document(parse_document(json.loads(raw), ref)) == as_bytes
