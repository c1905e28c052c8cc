"""Full-text search (``q=``) over the profile lists: SQLite FTS5 with accents and case folded in
English, French, Spanish and Portuguese, every word a prefix and all required, the lists'
filters and sorting kept, hidden texts never matched, typed query syntax never an error, the
index following every change, and a database made before the index getting one; the same
rows found on PostgreSQL (its GIN indexes over unaccented words) as on SQLite.

A module copy of the demo database, the real embedding model (creates embed their text) and
TestClient."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database
from support import copy_database, make_tokens

from api.app import create_app
from matcher.migrations import migrations
from matcher.principals import Role
from matcher.settings import load_settings
from matcher.store import Store
from matcher.store.profiles import ProfileQuery, search_clause, search_terms

V1 = "/api/v1"
A, A_REGION = "demo-a-01", "africa_anglophone"  # GH
B, B_REGION = "demo-a-12", "latin_america_caribbean"  # CO
F = "demo-a-08"  # a francophone association
P = "demo-p-01"
LISTS = ("needs", "practices", "offerings", "associations", "partners")


@pytest.fixture(scope="module")
def search_db(demo_db, tmp_path_factory):
    return copy_database(demo_db, tmp_path_factory.mktemp("search"))


@pytest.fixture(scope="module")
def tokens(search_db):
    return make_tokens(search_db, {
        "admin": (Role.ADMIN, {}),
        "association_A": (Role.ASSOCIATION, {"association_id": A}),
        "association_B": (Role.ASSOCIATION, {"association_id": B}),
        "coordinator_B": (Role.COORDINATOR, {"regions": [B_REGION]}),
        "partner_P": (Role.PARTNER, {"partner_id": P}),
    })


@pytest.fixture(scope="module")
def http(search_db, tokens):
    with TestClient(create_app(load_settings(db=search_db))) as client:
        yield client


@pytest.fixture
def as_(http, tokens):
    def caller(name: str):
        class Calls:
            def __getattr__(self, method):
                return lambda url, **kw: getattr(http, method)(url, headers=tokens[name], **kw)
        return Calls()
    return caller


@pytest.fixture(scope="module")
def created(http, tokens):
    """One record per language, each with accents or capitals to fold."""
    admin = tokens["admin"]

    def post(url: str, body: dict) -> str:
        response = http.post(f"{V1}{url}", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    return {
        "es": post(f"/associations/{B}/needs", {
            "text": "Necesitamos un crédito rotativo para comprar una retorta", "category":
            "finance"}),
        "fr": post(f"/partners/{P}/offerings", {
            "title": "Sortir du Mercure", "description": "Atelier sur les dangers du MERCURE "
            "et les méthodes sans mercure", "category": "environment"}),
        "pt": post(f"/associations/{B}/practices", {
            "text": "Criámos uma formação em poupança para as garimpeiras"}),
        "en": post(f"/associations/{A}/practices", {
            "text": "Weekly Pit-Wall inspections before anyone goes underground"}),
    }


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("kind,lang,typed", [
    ("needs", "es", "credito"), ("needs", "es", "CRÉDITO Rotativo"),
    ("offerings", "fr", "mercure"), ("offerings", "fr", "Mercúre"),
    ("practices", "pt", "formacao poupanca"), ("practices", "pt", "FORMAÇÃO"),
    ("practices", "en", "pit wall"), ("practices", "en", "INSPECTION"),
])
def test_search_folds_accents_and_case_in_every_language(as_, created, kind, lang, typed):
    assert created[lang] in ids(as_("admin").get(f"{V1}/{kind}", params={"q": typed}))


def test_each_word_is_a_prefix_and_all_words_must_occur(as_, created):
    assert created["fr"] in ids(as_("admin").get(f"{V1}/offerings", params={"q": "merc atel"}))
    assert ids(as_("admin").get(f"{V1}/offerings", params={"q": "mercure xylophone"})) == []
    assert created["es"] not in ids(as_("admin").get(f"{V1}/needs", params={"q": "edito"}))


@pytest.mark.parametrize("typed", [
    '"', '""', "'", "AND", "OR NOT", "NEAR(a b)", "text:x", "title:mercure", "*", "^mercure",
    "(", "a AND (", "-mercure", '"unterminated', "\\", "%", "_", "{text}: x", "💥", "   ",
    "mercure*", "mer*cure", "NOT mercure",
])
@pytest.mark.parametrize("kind", LISTS)
def test_typed_query_syntax_is_never_an_error(as_, created, typed, kind):
    response = as_("admin").get(f"{V1}/{kind}", params={"q": typed})

    assert response.status_code == 200, response.text
    if search_terms(typed) is None:  # no word: nothing is selected
        assert response.json()["total"] == 0


def test_operators_are_searched_as_words(as_, created):
    found = ids(as_("admin").get(f"{V1}/offerings", params={"q": "NOT mercure"}))
    assert created["fr"] not in found  # "not" is a word the offering lacks, not an operator
    assert created["fr"] in ids(as_("admin").get(f"{V1}/offerings",
                                                 params={"q": "dangers:mercure"}))


def test_search_keeps_the_filters_scope_and_sort(as_, created):
    assert created["es"] in ids(as_("admin").get(f"{V1}/needs", params={
        "q": "credito", "region": B_REGION}))
    assert ids(as_("admin").get(f"{V1}/needs", params={"q": "credito", "region": A_REGION,
                                                       "association_id": B})) == []
    both = ids(as_("admin").get(f"{V1}/practices", params={"q": "pit OR formacao"}))
    assert both == []  # all words must occur: "or" is a word too
    mine = as_("admin").get(f"{V1}/practices", params={"q": "the", "sort": "-id", "limit": 100})
    listed = ids(mine)
    assert listed == sorted(listed, reverse=True) and mine.json()["total"] == len(listed)
    assert ids(as_("association_A").get(f"{V1}/needs", params={"q": "credito"})) == []


def test_search_never_matches_a_need_the_caller_may_not_read(as_, http, tokens):
    secret = http.post(f"{V1}/associations/{B}/needs", headers=tokens["admin"], json={
        "text": "Zorblatt acoso en la bocamina", "sensitive": True}).json()["id"]

    for who in ("association_B", "coordinator_B", "admin"):
        assert ids(as_(who).get(f"{V1}/needs", params={"q": "zorblatt"})) == [secret]
    for who in ("association_A", "partner_P"):
        response = as_(who).get(f"{V1}/needs", params={"q": "zorblatt"})
        assert response.status_code in (200, 403)
        assert "zorblatt" not in response.text.casefold() and secret not in response.text


def test_the_index_follows_changes_and_deletions(as_):
    need = as_("association_A").post(f"{V1}/associations/{A}/needs", json={
        "text": "Quuxite pans are rusting"}).json()["id"]
    assert ids(as_("association_A").get(f"{V1}/needs", params={"q": "quuxite"})) == [need]

    changed = as_("association_A").patch(f"{V1}/needs/{need}", json={
        "text": "Frobnium sluices are rusting"})
    assert changed.status_code == 200, changed.text
    assert ids(as_("association_A").get(f"{V1}/needs", params={"q": "quuxite"})) == []
    assert ids(as_("association_A").get(f"{V1}/needs", params={"q": "frobnium"})) == [need]

    assert as_("association_A").delete(f"{V1}/needs/{need}").status_code == 204
    assert ids(as_("association_A").get(f"{V1}/needs", params={"q": "frobnium"})) == []


def test_a_database_from_before_search_gets_its_existing_texts_indexed(tmp_path):
    path = tmp_path / "old.db"
    migrations.apply(path, stop_before="m018_search")
    db = Database(path)
    db["associations"].insert({"id": "a-1", "name": "Coopérative Aurífera", "country": "PE",
                               "region": "latin_america_caribbean", "languages": "[]",
                               "commodities": "[]", "members": 10})
    db["needs"].insert({"id": "n-1", "association_id": "a-1", "position": 0,
                        "text": "Formación en gestión y crédito"})
    db.conn.close()

    store = Store(path)
    try:
        found, total = store.list_records("needs", ProfileQuery(q="gestion credito"))
        assert [n["id"] for n in found] == ["n-1"] and total == 1
        found, _ = store.list_records("associations", ProfileQuery(q="cooperativa aurifera"))
        assert found == []  # every word must occur: "cooperativa" is not "coopérative"
        found, _ = store.list_records("associations", ProfileQuery(q="cooperative aurifera"))
        assert [a["id"] for a in found] == ["a-1"]
    finally:
        store.close()


def test_search_terms_quote_every_word_as_a_prefix():
    assert search_terms('mercure "AND" (x') == '"mercure"* "AND"* "x"*'
    assert search_terms("l'or crédito") == '"l"* "or"* "crédito"*'
    assert search_terms("--- * ()") is None


def test_the_index_follows_imports_that_change_texts(tmp_path, ref):
    from matcher.exchange import parse_document

    def doc(text: str) -> bytes:
        return json.dumps({"partners": [], "associations": [{
            "id": "a-1", "name": "Mineros Unidos", "country": "PE",
            "needs": [{"id": "n-1", "text": text}]}]}).encode()

    store = Store(tmp_path / "imported.db")
    try:
        store.import_exchange(parse_document(doc("Necesitamos préstamos"), ref))
        assert store.list_records("needs", ProfileQuery(q="prestamos"))[1] == 1
        store.import_exchange(parse_document(doc("Necesitamos capacitación"), ref))
        assert store.list_records("needs", ProfileQuery(q="prestamos"))[1] == 0
        assert store.list_records("needs", ProfileQuery(q="capacitacion"))[1] == 1
    finally:
        store.close()


SAMPLES = {
    "needs": {"n-es": {"text": "Necesitamos un crédito rotativo para comprar una retorta"}},
    "offerings": {"o-fr": {"title": "Sortir du Mercure", "description": "Atelier sur les "
                           "dangers du MERCURE et les méthodes sans mercure"}},
    "practices": {"p-pt": {"text": "Criámos uma formação em poupança para as garimpeiras"},
                  "p-en": {"text": "Weekly Pit-Wall inspections before anyone goes underground"}},
    "associations": {"a-1": {"name": "Coopérative Aurífera", "description": None}},
    "partners": {"p-1": {"name": "Ministère des Mines", "description": "l’or «équitable»"}},
}


# What a search finds among SAMPLES (and a lesson), the same on SQLite and on PostgreSQL.
FINDS = [
    ("needs", "credito", ["n-es"]), ("needs", "CRÉDITO Rotativo", ["n-es"]),
    ("needs", "edito", []), ("needs", "--- * ()", []),
    ("offerings", "mercure", ["o-fr"]), ("offerings", "Mercúre", ["o-fr"]),
    ("offerings", "merc atel", ["o-fr"]), ("offerings", "mercure xylophone", []),
    ("offerings", "NOT mercure", []), ("offerings", "dangers:mercure", ["o-fr"]),
    ("offerings", '"mercure*"', ["o-fr"]), ("offerings", "sortir' OR 1=1 --", []),
    ("practices", "formacao poupanca", ["p-pt"]), ("practices", "FORMAÇÃO", ["p-pt"]),
    ("practices", "pit wall", ["p-en"]), ("practices", "INSPECTION", ["p-en"]),
    ("practices", "pit OR formacao", []),
    ("associations", "cooperativa aurifera", []), ("associations", "cooperative aurif", ["a-1"]),
    ("partners", "or equitable", ["p-1"]), ("partners", "MINES l", ["p-1"]),
    ("lessons", "FORME cornue", [1]), ("lessons", "cornue zzzunknown", []),
]


def test_search_finds_the_same_rows_on_either_backend(searched):
    db = searched.db
    found = {}
    for table, typed, _ in FINDS:
        clause, params = search_clause(db.postgresql, table, "t", typed)
        found[table, typed] = [r["id"] for r in db.rows(
            f'select t.id from "{table}" t where {clause} order by t.id', params)]

    assert found == {(table, typed): expected for table, typed, expected in FINDS}


def test_the_search_index_follows_changes_on_either_backend(searched):
    store, db = searched, searched.db

    def found(typed: str) -> list[str]:
        clause, params = search_clause(db.postgresql, "needs", "t", typed)
        return [r["id"] for r in db.rows(f"select t.id from needs t where {clause}", params)]

    db.execute("update needs set text = 'Frobnium sluices' where id = 'n-es'")
    assert found("credito") == [] and found("frobnium") == ["n-es"]
    db.execute("delete from needs where id = 'n-es'")
    assert found("frobnium") == []
    db.execute("insert into needs (id, association_id, text, position) "
               "values ('n-2', 'a-1', 'Préstamos', 0)")
    assert found("prestamo") == ["n-2"]
    assert store.evidence_version() == 1  # the lesson of ``searched``


@pytest.fixture
def searched(blank_target):
    """A new store of either backend holding :data:`SAMPLES`."""
    store = Store(blank_target)
    db = store.db
    db.execute("insert into associations (id, name, country) values ('a-0', 'Other', 'PE')")
    db.execute("insert into partners (id, name) values ('p-0', 'Other')")
    for table, rows in SAMPLES.items():
        for record_id, row in rows.items():
            parent = ({"association_id": "a-0"} if table in ("needs", "practices") else
                      {"partner_id": "p-0"} if table == "offerings" else {})
            values = {"id": record_id, **row, **parent}
            db.execute(f'insert into "{table}" ({", ".join(values)}) '
                       f'values ({", ".join(":" + c for c in values)})', values)
    match = db.insert("matches", {"kind": "partner", "need_id": "n-es", "association_id": "a-0",
                                  "item_id": "o-fr", "owner_id": "p-0", "status": "closed"})
    db.insert("lessons", {"match_id": match, "side": "association", "association_id": "a-0",
                          "text": "Nous avons FORMÉ les mineurs à la cornue", "worked": 1,
                          "language": "fr", "actor": "u", "role": "association",
                          "created_at": "t", "updated_at": "t"})
    yield store
    store.close()
