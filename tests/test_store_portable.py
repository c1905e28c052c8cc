"""The store's portable SQL on SQLite: lists sort as SQLite sorts (text by code point, nulls
first ascending and last descending), empty lists select nothing, rows take named
parameters."""

from __future__ import annotations

import pytest

from matcher.exchange import Association, Exchange, Need, Offering, Partner, Practice
from matcher.store.profiles import RELEVANCE, ProfileQuery, Scope
from matcher.store.sql import in_list

NAMES = {"a-1": ("beta", "latam"), "a-2": ("Beta", None), "a-3": ("alpha", "asia"),
         "a-4": ("Ébène", "africa_francophone"), "a-5": ("Zeta", None)}


def _fill(store) -> None:
    store.import_exchange(Exchange(associations=[
        Association(id=i, name=name, country="GH", region=region,
                    needs=[Need(id=f"n-{i}", text="help")])
        for i, (name, region) in NAMES.items()]))


def _ids(store, sort: str) -> list[str]:
    rows, total = store.list_records("associations", ProfileQuery(sort=sort))
    assert total == len(NAMES)
    return [r["id"] for r in rows]


def test_lists_sort_text_by_code_point(store):
    _fill(store)
    by_name = sorted(NAMES, key=lambda i: NAMES[i][0])
    assert _ids(store, "name") == by_name == ["a-2", "a-5", "a-3", "a-1", "a-4"]
    assert _ids(store, "-name") == by_name[::-1]


def test_lists_sort_nulls_first_and_last_when_descending_ties_by_id(store):
    _fill(store)
    assert _ids(store, "region") == ["a-2", "a-5", "a-4", "a-3", "a-1"]
    assert _ids(store, "-region") == ["a-1", "a-3", "a-4", "a-2", "a-5"]


def test_an_empty_list_selects_nothing(store):
    _fill(store)
    assert store._existing("associations", []) == {}
    assert store.region_needs([]) == []
    assert len(store.region_needs(None)) == len(NAMES)
    rows, total = store.list_records("needs", ProfileQuery(scope=Scope(association_id="a-3")))
    assert [r["id"] for r in rows] == ["n-a-3"] and total == 1
    assert store.list_records("needs", ProfileQuery(scope=Scope())) == ([], 0)
    assert store.raise_confidential([], actor="engine", role="system", note="") == []


def test_rows_take_named_parameters(store):
    _fill(store)
    marks, params = in_list("id", ["a-4", "a-1", "nope"])
    assert [r["id"] for r in store._rows("associations", f"id in ({marks})", params)] == [
        "a-1", "a-4"]
    assert [r["name"] for r in store._rows("associations", "region is null and name = :n",
                                           {"n": "Zeta"})] == ["Zeta"]


def test_positional_parameters_are_refused_on_every_backend(store):
    _fill(store)
    with pytest.raises(TypeError, match="named"):
        store.db.execute("select id from associations where id = ?", ["a-1"])
    with pytest.raises(TypeError, match="named"):
        list(store._rows("associations", "id = ?", ["a-1"]))
    with pytest.raises(TypeError, match="named"):
        store.db.rows("select id from associations where id = ?", ("a-1",))
    assert store.db.value("select name from associations where id = :id", {"id": "a-1"}) \
        == "beta"


def test_the_hard_rules_facts_come_in_one_read_equal_to_the_three_reads(store):
    store.import_exchange(Exchange(
        associations=[Association(id="a-1", name="one", country="GH", region="latam",
                                  needs=[Need(id="n-1", text="help"),
                                         Need(id="n-2", text="more help")],
                                  practices=[Practice(id="p-1", text="we did"),
                                             Practice(id="p-2", text="we did too")])],
        partners=[Partner(id="pa-1", name="bank", offerings=[
            Offering(id=f"o-{i}", title=f"loan {i}", category="finance", capacity=3)
            for i in range(1, 5)])]))

    def match(need: str, kind: str, item: str, *moves: str) -> None:
        row = store.create_match({"kind": kind, "need_id": need, "association_id": "a-1",
                                  "item_id": item, "owner_id": "pa-1" if kind == "partner"
                                  else "a-1", "score": 0.5, "category": "finance",
                                  "reasons": []}, actor="test", role="admin")
        for status in moves:
            row = store.transition_match(row["id"], version=row["version"],
                                         from_status=row["status"], to_status=status,
                                         action=status, actor="test", role="admin")

    match("n-1", "partner", "o-1", "approved")
    match("n-2", "partner", "o-1", "approved", "introduced")
    match("n-2", "partner", "o-2", "approved")
    match("n-1", "partner", "o-3")  # proposed: holds no slot
    match("n-1", "partner", "o-4", "rejected")
    match("n-1", "peer", "p-1", "rejected")
    for kind, item in (("partner", "o-2"), ("peer", "p-2")):
        store.mark_not_interested("n-1", "a-1", kind, item, actor="test", role="admin")

    assert store.rule_facts("n-1", "partner") == ({"o-1": 2, "o-2": 1}, {"o-4"}, {"o-2"})
    assert store.rule_facts("n-1", "peer") == (None, {"p-1"}, {"p-2"})
    assert store.rule_facts("n-2", "partner") == ({"o-1": 2, "o-2": 1}, set(), set())
    for need in ("n-1", "n-2"):
        for kind in ("partner", "peer"):
            assert store.rule_facts(need, kind) == (
                store.capacity_used() if kind == "partner" else None,
                store.rejected_items(need, kind), store.not_interested_items(need, kind))


def test_a_search_by_relevance_puts_the_best_matches_first(store):
    texts = {"n-1": "Gold buyers pay late; we need a fair buyer for our gold.",
             "n-2": "We need water pumps for the rainy season.",
             "n-3": "Mercury vapour at the gold shop.",
             "n-4": "Gold, gold and more gold: a fair price for gold from fair buyers.",
             "n-5": "Land titles for the cooperative."}
    store.import_exchange(Exchange(associations=[Association(
        id="a-1", name="one", country="GH", needs=[Need(id=i, text=t) for i, t in
                                                    texts.items()])]))

    rows, total = store.list_records("needs", ProfileQuery(q="gold fair", sort=RELEVANCE))
    assert total == 2 and [r["id"] for r in rows] == ["n-4", "n-1"]  # gold four times first
    rows, total = store.list_records("needs", ProfileQuery(q="gold", sort=RELEVANCE))
    assert total == 3 and rows[0]["id"] == "n-4"
    assert {r["id"] for r in rows} == {"n-1", "n-3", "n-4"}
    # by id, as before, when asked; relevance with no word to rank by is by id
    rows, _ = store.list_records("needs", ProfileQuery(q="gold", sort="id"))
    assert [r["id"] for r in rows] == ["n-1", "n-3", "n-4"]
    rows, _ = store.list_records("needs", ProfileQuery(sort=RELEVANCE))
    assert [r["id"] for r in rows] == sorted(texts)
