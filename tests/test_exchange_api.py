"""Bulk import and export over HTTP: the CLI's all-or-nothing rules, coordinators' regions.

A private copy of the demo database per test; the real model where suggestions matter.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from support import make_tokens

from api.security import POLICY
from matcher.exchange import MAX_TEXT, dump_document
from matcher.principals import Role
from matcher.store import Store

DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
PROFILE_TABLES = ("partners", "offerings", "associations", "needs", "practices")
R1, R2 = "africa_anglophone", "latin_america_caribbean"


def digest(db: Path) -> str:
    """A content digest of the profile tables (and the data version)."""
    conn = sqlite3.connect(db)
    try:
        h = hashlib.sha256()
        for table in (*PROFILE_TABLES, "meta"):
            # not the random tokens a write renews (matcher.store corpus_tokens): two
            # databases with the same data have different ones
            where = " where key not like '%token'" if table == "meta" else ""
            for row in conn.execute(f"select * from [{table}]{where} order by 1"):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def tokens(demo_copy) -> dict[str, dict[str, str]]:
    return make_tokens(demo_copy, {
        "admin": (Role.ADMIN, {}),
        "coord_r1": (Role.COORDINATOR, {"regions": [R1]}),
        "coord_r2": (Role.COORDINATOR, {"regions": [R2]}),
        "association": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
        "partner": (Role.PARTNER, {"partner_id": "demo-p-01"}),
    })


@pytest.fixture
def client(tokens, client):
    """The shared client (over ``demo_copy``), its app started after the tokens exist."""
    return client


def new_document(suffix: str = "new", region_country: tuple[str, str] = ("GH", R1)) -> dict:
    """One new partner with an offering and one new association with a need and a practice."""
    country, region = region_country
    return {
        "partners": [{
            "id": f"p-{suffix}", "name": f"Partner {suffix}", "type": "ngo",
            "offerings": [{"id": f"o-{suffix}", "title": "Shaft timbering course",
                           "category": "ohs"}]}],
        "associations": [{
            "id": f"a-{suffix}", "name": f"Association {suffix}", "country": country,
            "region": region,
            "needs": [{"id": f"n-{suffix}", "text": "We need help with gold prices."}],
            "practices": [{"id": f"pr-{suffix}", "text": "We run a savings group."}]}],
    }


def associations_only(doc: dict) -> dict:
    return {"partners": [], "associations": doc["associations"]}


# ---------------------------------------------------------------------- export
def test_admin_export_is_the_cli_export(client, tokens, demo_copy):
    response = client.get("/api/v1/export", headers=tokens["admin"])

    assert response.status_code == 200
    store = Store(demo_copy)
    assert response.json() == dump_document(store.export_exchange())
    store.close()
    body = response.json()
    assert len(body["partners"]) == len(DEMO["partners"])
    assert len(body["associations"]) == len(DEMO["associations"])


def test_coordinator_export_is_their_regions_associations_without_partners(client, tokens):
    body = client.get("/api/v1/export", headers=tokens["coord_r1"]).json()

    expected = {a["id"] for a in DEMO["associations"]
                if (a.get("region") or {"MZ": R1}.get(a["country"])) == R1}
    assert {a["id"] for a in body["associations"]} == expected
    assert body["partners"] == []
    sgbv = [n for a in body["associations"] for n in a["needs"] if n.get("category") == "sgbv"]
    assert sgbv and all(n["text"] for n in sgbv)  # coordinators of the region read them


def test_export_then_import_changes_nothing(client, tokens, demo_copy):
    before = digest(demo_copy)
    for who in ("admin", "coord_r1"):
        exported = client.get("/api/v1/export", headers=tokens[who]).json()
        response = client.post("/api/v1/import", json=exported, headers=tokens[who])

        assert response.status_code == 200, response.text
        assert response.json()["changed"] is False
        assert sum(response.json()["inserted"].values()) == 0
    assert digest(demo_copy) == before


@pytest.mark.parametrize("who,status", [("association", 403), ("partner", 403), (None, 401)])
def test_only_admins_and_coordinators_import_and_export(client, tokens, who, status):
    headers = tokens[who] if who else {}

    assert client.get("/api/v1/export", headers=headers).status_code == status
    assert client.post("/api/v1/import", json=new_document(),
                       headers=headers).status_code == status


def test_policy_table_lists_the_bulk_operations():
    assert POLICY["import_exchange"] == {Role.ADMIN, Role.COORDINATOR}
    assert POLICY["export_exchange"] == {Role.ADMIN, Role.COORDINATOR}


# ---------------------------------------------------------------------- import
def test_admin_import_reports_counts_and_writes(client, tokens, demo_copy):
    doc = new_document()
    changed = copy.deepcopy(next(a for a in DEMO["associations"] if a["id"] == "demo-a-03"))
    changed["needs"][0]["text"] += " (updated)"
    doc["associations"].append(changed)
    version = Store(demo_copy).data_version()

    response = client.post("/api/v1/import", json=doc, headers=tokens["admin"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] is True
    assert body["inserted"] == {"partners": 1, "offerings": 1, "associations": 1, "needs": 1,
                                "practices": 1}
    assert body["updated"]["needs"] == 1 and body["unchanged"]["associations"] == 1
    store = Store(demo_copy)
    assert store.get("offerings", "o-new")["partner_id"] == "p-new"
    assert store.get("needs", changed["needs"][0]["id"])["text"].endswith("(updated)")
    assert store.data_version() > version
    store.close()


def _bad(mutate) -> dict:
    """A valid document of many new records, broken in one place by ``mutate``."""
    doc = {"partners": [], "associations": []}
    for i in range(30):
        part = new_document(f"bulk{i}")
        doc["partners"] += part["partners"]
        doc["associations"] += part["associations"]
    mutate(doc)
    return doc


def _set(path: list, value):
    def mutate(doc):
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    return mutate


BAD_DOCUMENTS = {
    "unknown category": (_set(["partners", 17, "offerings", 0, "category"], "mining"),
                         "o-bulk17", "category"),
    "bad country": (_set(["associations", 29, "country"], "XX"), "a-bulk29", "country"),
    "need text too long": (_set(["associations", 12, "needs", 0, "text"], "x" * (MAX_TEXT + 1)),
                           "n-bulk12", "text"),
    "unknown field": (_set(["associations", 5, "owner"], "someone-else"), "a-bulk5", "owner"),
    "duplicate id": (_set(["associations", 8, "practices", 0, "id"], "pr-bulk3"),
                     "pr-bulk3", "id"),
    "need moved to another association": (
        _set(["associations", 20, "needs", 0, "id"], "demo-n-001"), "demo-n-001", "id"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_one_bad_record_is_422_naming_it_and_nothing_is_written(client, tokens, demo_copy,
                                                                case):
    mutate, record, field = BAD_DOCUMENTS[case]
    before = digest(demo_copy)

    response = client.post("/api/v1/import", json=_bad(mutate), headers=tokens["admin"])

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert f"record {record!r}" in detail and field in detail
    assert digest(demo_copy) == before


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'{"partners": {}}', b"[" * 100_000,
                                  b'{"partners": [' * 20_000])
def test_malformed_document_is_422(client, tokens, demo_copy, body):
    before = digest(demo_copy)

    response = client.post("/api/v1/import", content=body, headers={
        **tokens["admin"], "Content-Type": "application/json"})

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    assert digest(demo_copy) == before


def test_import_error_never_echoes_need_text(client, tokens):
    secret = "my husband beats me when the gold price drops"
    doc = new_document()
    doc["associations"][0]["needs"][0].update(text=secret, category="violence")
    too_long = new_document("long")
    too_long["associations"][0]["needs"][0]["text"] = secret + "!" * MAX_TEXT

    for bad in (doc, too_long):
        response = client.post("/api/v1/import", json=bad, headers=tokens["admin"])
        assert response.status_code == 422
        assert "husband" not in response.text


# ---------------------------------------------------------------------- coordinators
def test_coordinator_imports_associations_of_their_region(client, tokens, demo_copy):
    response = client.post("/api/v1/import", json=associations_only(new_document()),
                           headers=tokens["coord_r1"])

    assert response.status_code == 200, response.text
    assert response.json()["inserted"]["associations"] == 1
    assert Store(demo_copy).get("needs", "n-new")["association_id"] == "a-new"


@pytest.mark.parametrize("case", ["other region", "partners", "existing elsewhere",
                                  "mixed regions"])
def test_coordinator_import_outside_their_regions_is_403_and_writes_nothing(
        client, tokens, demo_copy, case):
    doc = associations_only(new_document())
    if case == "other region":
        doc = associations_only(new_document(region_country=("PE", R2)))
    elif case == "partners":
        doc = new_document()
    elif case == "existing elsewhere":  # demo-a-11 is in R2: R1's coordinator may not move it
        moved = copy.deepcopy(next(a for a in DEMO["associations"] if a["id"] == "demo-a-11"))
        moved.update(country="GH", region=R1)
        doc["associations"].append(moved)
    else:
        doc["associations"] += new_document("peru", ("PE", R2))["associations"]
    before = digest(demo_copy)

    response = client.post("/api/v1/import", json=doc, headers=tokens["coord_r1"])

    assert response.status_code == 403, response.text
    assert "record '" in response.json()["detail"]
    assert digest(demo_copy) == before


def test_coordinator_reusing_an_id_from_another_region_learns_no_owner(client, tokens,
                                                                       demo_copy):
    doc = associations_only(new_document())
    r2_need = next(n["id"] for a in DEMO["associations"] if a["id"] == "demo-a-11"
                   for n in a["needs"])
    doc["associations"][0]["needs"][0]["id"] = r2_need
    before = digest(demo_copy)

    response = client.post("/api/v1/import", json=doc, headers=tokens["coord_r1"])

    assert response.status_code == 422
    assert r2_need in response.json()["detail"] and "demo-a-11" not in response.text
    assert digest(demo_copy) == before


# ---------------------------------------------------------------------- and the engine
@pytest.mark.slow
def test_imported_offering_is_suggested_at_once(client, tokens):
    doc = {"partners": [{
        "id": "p-fresh", "name": "Timber Frames for Pits", "type": "ngo",
        "offerings": [{
            "id": "o-fresh", "title": "Pit timbering and flood safety for small mines",
            "description": "We teach miners to shore pit walls with timber frames so they do "
                           "not cave in, and to keep pits safe from flooding in the rainy "
                           "season.",
            "category": "ohs", "languages": ["en"]}]}], "associations": []}
    url = "/api/v1/needs/demo-n-001/suggestions"
    before = client.get(url, headers=tokens["admin"]).json()["suggestions"]

    assert client.post("/api/v1/import", json=doc, headers=tokens["admin"]).status_code == 200
    after = client.get(url, headers=tokens["admin"]).json()["suggestions"]

    assert "o-fresh" not in {s["offering_id"] for s in before}
    assert "o-fresh" in {s["offering_id"] for s in after[:5]}
