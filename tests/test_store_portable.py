"""The store's portable SQL on SQLite: lists sort as SQLite sorts (text by code point, nulls
first ascending and last descending), empty lists select nothing, rows take named
parameters."""

from __future__ import annotations

import pytest

from matcher.exchange import Association, Exchange, Need
from matcher.store.profiles import ProfileQuery, Scope
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
