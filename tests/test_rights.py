"""Organisation data rights: an association or a partner exports all its data, and deletes it
everywhere - profile, texts, vectors, matches, tokens, users - with its audit rows
pseudonymised, in one transaction; afterwards no row anywhere holds its ids, names or texts
and suggestions never return its items.

Matches are made through the API (propose, approve, accept) on a private copy of the demo
database, with the real model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postgres import demo_target
from support import bearer

from api.app import create_app
from api.security import POLICY
from matcher.accounts.users import create_user
from matcher.db_target import is_url
from matcher.principals import Role, hash_token
from matcher.ranking.embeddings import content_hash
from matcher.ranking.engine import Engine
from matcher.services.rights import PSEUDONYM
from matcher.settings import load_settings
from matcher.store import Store
from tests.test_api import schema_problems

DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
R1 = "africa_anglophone"
A, B = "demo-a-01", "demo-a-02"  # both in R1
P, Q = "demo-p-01", "demo-p-02"
ASSOCIATIONS = {a["id"]: a for a in DEMO["associations"]}
PARTNERS = {p["id"]: p for p in DEMO["partners"]}
SENSITIVE_NEED = "demo-n-005"  # B's, category sgbv


def association_needles(association_id: str) -> set[str]:
    """Every id, name and text of an association that must vanish with it."""
    a = ASSOCIATIONS[association_id]
    found = {a["id"], a["name"], a["description"]}
    for child in (*a["needs"], *a["practices"]):
        found |= {child["id"], child["text"]}
    return found | {v for v in (a.get("contact") or {}).values() if v}


def partner_needles(partner_id: str) -> set[str]:
    p = PARTNERS[partner_id]
    found = {p["id"], p["name"], p["description"]}
    for o in p["offerings"]:
        found |= {o["id"], o["title"], o["description"]}
    return found | {v for v in (p.get("contact") or {}).values() if v}


def _tables(store: Store) -> list[str]:
    return sorted(store.db.table_names())


def leaks(db: str, needles: set[str]) -> list[str]:
    """Every (table, column, needle) where a row of any table still holds a needle."""
    store = Store(db)
    found = []
    try:
        for table in _tables(store):
            for row in store.db.rows(f'select * from "{table}"'):
                for column, value in row.items():
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("utf-8", "replace")
                    if isinstance(value, str):
                        found += [f"{table}.{column}: {n[:40]!r}" for n in needles if n in value]
    finally:
        store.close()
    return found


def everything(db: str) -> str:
    """A digest of every row of every table."""
    store = Store(db)
    h = hashlib.sha256()
    try:
        for table in _tables(store):
            for row in store.db.execute(f'select * from "{table}" order by 1').fetchall():
                h.update(repr(tuple(row)).encode())
    finally:
        store.close()
    return h.hexdigest()


def count(db: str, table: str) -> int:
    store = Store(db)
    try:
        return store.db.value(f'select count(*) from "{table}"')
    finally:
        store.close()


# ---------------------------------------------------------------------- the world
BOTH = pytest.mark.parametrize("world", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def world(request, demo_db, tmp_path):
    """Tokens per role and four matches made through the API:

    m1  A's need x P's offering      proposed by A, approved (note naming A), accepted by A;
                                     a comment by A, one by P
    m2  B's need x A's practice      (peer) proposed and approved by the coordinator
    m3  B's need x Q's offering      note naming A and P: on nobody's deleted match
    m4  B's sensitive need x P's offering, proposed (not introduced: partners read a summary)

    A is not interested in P's other offering demo-o-002 for the need of m1.

    A copy of the demo file; for the tests marked ``BOTH``, a PostgreSQL database holding
    the same too.
    """
    demo_copy = demo_target(request, demo_db, tmp_path, getattr(request, "param", "sqlite"))
    store = Store(demo_copy)
    raw = {
        "admin": store.create_token(Role.ADMIN),
        "coord": store.create_token(Role.COORDINATOR, regions=[R1], label="R1 desk"),
        "a": store.create_token(Role.ASSOCIATION, association_id=A, label=f"{A} office"),
        "a_spare": store.create_token(Role.ASSOCIATION, association_id=A),
        "b": store.create_token(Role.ASSOCIATION, association_id=B),
        "p": store.create_token(Role.PARTNER, partner_id=P, label=f"{P} desk"),
        "q": store.create_token(Role.PARTNER, partner_id=Q),
    }
    if hasattr(store, "create_user"):
        create_user(store, "nkwanta.field", "correct horse battery staple 42", Role.ASSOCIATION,
                          association_id=A)
        create_user(store, "safeshafts.desk", "correct horse battery staple 43", Role.PARTNER,
                          partner_id=P)
    store.close()
    headers = {k: bearer(token) for k, (_, token) in raw.items()}
    a_name, p_name = ASSOCIATIONS[A]["name"], PARTNERS[P]["name"]
    with TestClient(create_app(load_settings(db=demo_copy))) as client:
        def call(who, method, url, **kw):
            response = client.request(method, url, headers=headers[who], **kw)
            assert response.status_code < 300, (url, response.text)
            return response.json()

        def propose(who, need, kind, item):
            return call(who, "POST", "/api/v1/matches",
                        json={"need_id": need, "kind": kind, "item_id": item})["id"]

        m1 = propose("a", "demo-n-001", "partner", "demo-o-001")
        call("coord", "POST", f"/api/v1/matches/{m1}/approve",
             json={"note": f"{a_name} asked twice"})
        call("a", "POST", f"/api/v1/matches/{m1}/accept", json={"note": f"thanks, {A}"})
        call("a", "POST", f"/api/v1/matches/{m1}/comments", json={"body": "twelve members"})
        call("p", "POST", f"/api/v1/matches/{m1}/comments", json={"body": "March suits us"})
        call("a", "POST", "/api/v1/needs/demo-n-001/suggestions/not-interested",
             json={"kind": "partner", "item_id": "demo-o-002"})
        m2 = propose("coord", "demo-n-004", "peer", "demo-pr-001")
        call("coord", "POST", f"/api/v1/matches/{m2}/approve", json={"note": "peer visit"})
        m3 = propose("b", "demo-n-004", "partner", "demo-o-005")
        call("coord", "POST", f"/api/v1/matches/{m3}/approve",
             json={"note": f"same case as {a_name} with {p_name}"})
        m4 = propose("coord", SENSITIVE_NEED, "partner", "demo-o-003")
        yield {"client": client, "db": demo_copy, "headers": headers,
               "tokens": {k: token for k, (_, token) in raw.items()},
               "token_ids": {k: token_id for k, (token_id, _) in raw.items()},
               "matches": {"m1": m1, "m2": m2, "m3": m3, "m4": m4}}


def get(world, who, url, **kw):
    return world["client"].get(url, headers=world["headers"][who], **kw)


def delete(world, who, url):
    return world["client"].delete(url, headers=world["headers"][who])


# ---------------------------------------------------------------------- who may
def test_policy_table_lists_the_rights_operations():
    assert POLICY["export_association_data"] == {Role.ADMIN, Role.ASSOCIATION}
    assert POLICY["delete_association"] == {Role.ADMIN, Role.ASSOCIATION}
    assert POLICY["export_partner_data"] == {Role.ADMIN, Role.PARTNER}
    assert POLICY["delete_partner"] == {Role.ADMIN, Role.PARTNER}


@pytest.mark.parametrize("who,status", [("b", 404), ("coord", 403), ("p", 403), (None, 401)])
def test_others_may_not_export_or_delete_an_association(world, who, status):
    headers = world["headers"][who] if who else {}
    before = everything(world["db"])
    client = world["client"]

    assert client.get(f"/api/v1/associations/{A}/data", headers=headers).status_code == status
    assert client.delete(f"/api/v1/associations/{A}", headers=headers).status_code == status
    assert everything(world["db"]) == before


@pytest.mark.parametrize("who,status", [("q", 403), ("coord", 403), ("a", 403), (None, 401)])
def test_others_may_not_export_or_delete_a_partner(world, who, status):
    headers = world["headers"][who] if who else {}
    before = everything(world["db"])
    client = world["client"]

    assert client.get(f"/api/v1/partners/{P}/data", headers=headers).status_code == status
    assert client.delete(f"/api/v1/partners/{P}", headers=headers).status_code == status
    assert everything(world["db"]) == before


@pytest.mark.parametrize("url", ["/api/v1/associations/demo-a-99", "/api/v1/partners/demo-p-99"])
def test_unknown_organisation_is_404(world, url):
    assert get(world, "admin", f"{url}/data").status_code == 404
    assert delete(world, "admin", url).status_code == 404


# ---------------------------------------------------------------------- export
@BOTH
def test_association_exports_its_profile_matches_audit_and_tokens(world):
    response = get(world, "a", f"/api/v1/associations/{A}/data")

    assert response.status_code == 200
    body = response.json()
    profile = body["association"]
    demo = ASSOCIATIONS[A]
    assert profile["id"] == A and profile["name"] == demo["name"]
    assert [n["text"] for n in profile["needs"]] == [n["text"] for n in demo["needs"]]
    assert [p["id"] for p in profile["practices"]] == [p["id"] for p in demo["practices"]]
    m = world["matches"]
    # its own need's match; the peer match on its practice only once introduced
    assert {x["id"] for x in body["matches"]} == {m["m1"]}
    assert {row["match_id"] for row in body["audit"]} == {m["m1"]}
    assert [(row["action"], row["to_status"]) for row in body["audit"]] == [
        ("propose", "proposed"), ("approve", "approved"), ("accept", "introduced"),
        ("comment", "introduced"), ("comment", "introduced")]
    assert {t["id"] for t in body["tokens"]} == {world["token_ids"]["a"],
                                                 world["token_ids"]["a_spare"]}
    assert world["tokens"]["a"] not in response.text
    assert hash_token(world["tokens"]["a"]) not in response.text


@BOTH
def test_an_export_has_the_comments_users_and_not_interested_marks(world):
    m1 = world["matches"]["m1"]
    association = get(world, "a", f"/api/v1/associations/{A}/data").json()
    partner = get(world, "p", f"/api/v1/partners/{P}/data").json()

    for body in (association, partner):
        assert [(c["match_id"], c["body"]) for c in body["comments"]] == [
            (m1, "twelve members"), (m1, "March suits us")]
    assert [c["mine"] for c in association["comments"]] == [True, False]
    assert [(u["username"], u["role"]) for u in association["users"]] == [
        ("nkwanta.field", "association")]
    assert [(u["username"], u["role"]) for u in partner["users"]] == [
        ("safeshafts.desk", "partner")]
    assert all("password_hash" not in u for u in association["users"] + partner["users"])
    assert [(x["need_id"], x["kind"], x["item_id"]) for x in association["not_interested"]] \
        == [("demo-n-001", "partner", "demo-o-002")]
    # the association's decision, not the partner's data
    assert "not_interested" not in partner
    assert "demo-o-002" not in json.dumps(partner["matches"] + partner["comments"])


def test_admin_export_of_an_association_has_every_match_involving_it(world):
    body = get(world, "admin", f"/api/v1/associations/{A}/data").json()

    assert {x["id"] for x in body["matches"]} == {world["matches"]["m1"], world["matches"]["m2"]}


def test_partner_export_redacts_a_sensitive_need_before_introduction(world):
    response = get(world, "p", f"/api/v1/partners/{P}/data")

    assert response.status_code == 200
    body = response.json()
    assert body["partner"]["id"] == P
    assert [o["id"] for o in body["partner"]["offerings"]] == \
        [o["id"] for o in PARTNERS[P]["offerings"]]
    m = world["matches"]
    assert {x["id"] for x in body["matches"]} == {m["m1"], m["m4"]}
    sensitive = next(x for x in body["matches"] if x["id"] == m["m4"])
    assert sensitive["need_text_redacted"] is True
    text = next(n["text"] for n in ASSOCIATIONS[B]["needs"] if n["id"] == SENSITIVE_NEED)
    assert text not in response.text
    assert {t["id"] for t in body["tokens"]} == {world["token_ids"]["p"]}


def test_export_validates_against_the_openapi_schema(world):
    spec = world["client"].get("/openapi.json").json()
    for who, path, url in (("a", "/api/v1/associations/{association_id}/data",
                            f"/api/v1/associations/{A}/data"),
                           ("p", "/api/v1/partners/{partner_id}/data",
                            f"/api/v1/partners/{P}/data")):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"]
        assert schema_problems(get(world, who, url).json(), schema, spec) == []


# ---------------------------------------------------------------------- deletion
def _check_gone(world, needles: set[str], texts: list[str]) -> None:
    db = world["db"]
    assert leaks(db, needles) == []
    if not is_url(db):  # a SQLite file and its WAL no longer hold the name either (secure
        # delete, checkpoint); PostgreSQL keeps a deleted row's bytes until it reuses the space
        path = Path(db)
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                       if p.exists())
        assert not [n for n in needles if len(n) > 12 and n.encode() in raw]
    # vectors: its texts' are gone, everything still needed is there
    store = Store(db)
    hashes = {h for name in load_settings(db=db).embedders for h in store.known_hashes(name)}
    assert not {content_hash(t) for t in texts} & hashes
    engine = Engine(load_settings(db=db), store=store)
    assert engine.sync_embeddings() == 0
    store.close()


@BOTH
def test_association_deletes_itself_everywhere(world):
    db, m = world["db"], world["matches"]
    audit_rows = count(db, "audit")
    version = Store(db).data_version()
    texts = [c["text"] for c in (*ASSOCIATIONS[A]["needs"], *ASSOCIATIONS[A]["practices"])]
    assert len(leaks(db, association_needles(A))) > 10  # the scan sees it while it exists

    response = delete(world, "a", f"/api/v1/associations/{A}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == A
    assert body["deleted"]["associations"] == 1
    assert body["deleted"]["needs"] == len(ASSOCIATIONS[A]["needs"])
    assert body["deleted"]["practices"] == len(ASSOCIATIONS[A]["practices"])
    assert body["deleted"]["matches"] == 2  # m1 (its need) and m2 (its practice)
    assert body["tokens_revoked"] == 2 and body["vectors_deleted"] >= len(texts)
    assert body["audit_pseudonymised"] > 0
    _check_gone(world, association_needles(A), texts)
    # the audit trail keeps its rows, pseudonymised
    assert count(db, "audit") == audit_rows
    store = Store(db)
    assert store.data_version() > version
    assert store.get_match(m["m1"]) is None and store.get_match(m["m2"]) is None
    assert store.get_match(m["m3"])["note"] == PSEUDONYM  # it named A
    trail = store.audit_trail(m["m1"])
    assert trail and all(row["note"] in (None, PSEUDONYM) for row in trail)
    assert any(row["actor"] == PSEUDONYM for row in trail)  # A proposed and accepted m1
    assert any("coordinator" in row["actor"] for row in trail)  # the reviewer stays
    store.close()
    # its tokens stopped working; others did not
    assert get(world, "a_spare", "/api/v1/plugins").status_code == 401
    assert get(world, "b", "/api/v1/plugins").status_code == 200
    assert get(world, "admin", f"/api/v1/associations/{A}/data").status_code == 404
    assert delete(world, "admin", f"/api/v1/associations/{A}").status_code == 404


def test_deleted_association_is_never_suggested(world):
    practices = {p["id"] for p in ASSOCIATIONS[A]["practices"]}
    before = get(world, "admin", "/api/v1/needs/demo-n-004/suggestions",
                 params={"kind": "peer", "limit": 100}).json()["suggestions"]
    assert practices & {s["practice_id"] for s in before}

    assert delete(world, "admin", f"/api/v1/associations/{A}").status_code == 200

    for need in (n["id"] for a in DEMO["associations"] if a["id"] != A for n in a["needs"]):
        response = get(world, "admin", f"/api/v1/needs/{need}/suggestions",
                       params={"kind": "peer", "limit": 100})
        assert response.status_code == 200
        suggested = response.json()["suggestions"]
        assert not practices & {s["practice_id"] for s in suggested}
        assert A not in {s["association_id"] for s in suggested}
    assert get(world, "admin", "/api/v1/needs/demo-n-001/suggestions").status_code == 404
    assert get(world, "admin", f"/api/v1/associations/{A}/suggestions").status_code == 404


@BOTH
def test_partner_deletes_itself_everywhere(world):
    db, m = world["db"], world["matches"]
    audit_rows = count(db, "audit")
    texts = [f"{o['title']}. {o['description']}" for o in PARTNERS[P]["offerings"]]
    assert len(leaks(db, partner_needles(P))) > 5

    response = delete(world, "p", f"/api/v1/partners/{P}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["deleted"]["partners"] == 1
    assert body["deleted"]["offerings"] == len(PARTNERS[P]["offerings"])
    assert body["deleted"]["matches"] == 2  # m1 and m4
    assert body["tokens_revoked"] == 1
    _check_gone(world, partner_needles(P), texts)
    assert count(db, "audit") == audit_rows
    store = Store(db)
    assert store.get_match(m["m1"]) is None and store.get_match(m["m4"]) is None
    assert store.get_match(m["m2"]) is not None  # A's and B's peer match stays
    assert store.get_match(m["m3"])["note"] == PSEUDONYM  # it named P
    store.close()
    assert get(world, "p", "/api/v1/plugins").status_code == 401
    assert get(world, "q", "/api/v1/plugins").status_code == 200


def test_deleted_partner_is_never_suggested(world):
    offerings = {o["id"] for o in PARTNERS[P]["offerings"]}

    assert delete(world, "admin", f"/api/v1/partners/{P}").status_code == 200

    for need in (n["id"] for a in DEMO["associations"] for n in a["needs"]):
        response = get(world, "admin", f"/api/v1/needs/{need}/suggestions",
                       params={"kind": "partner", "limit": 100})
        assert response.status_code == 200
        suggested = response.json()["suggestions"]
        assert suggested
        assert not offerings & {s["offering_id"] for s in suggested}
        assert P not in {s["partner_id"] for s in suggested}


def test_a_vector_another_text_shares_is_kept(world):
    """Vectors are keyed by content: a text A shares with B keeps its vector."""
    db = world["db"]
    shared = ASSOCIATIONS[A]["practices"][0]["text"]
    doc = {"partners": [], "associations": [{**{k: v for k, v in ASSOCIATIONS[B].items()},
                                             "practices": [{"id": "pr-copy", "text": shared}]}]}
    assert world["client"].post("/api/v1/import", json=doc,
                                headers=world["headers"]["admin"]).status_code == 200

    assert delete(world, "admin", f"/api/v1/associations/{A}").status_code == 200

    store = Store(db)
    assert content_hash(shared) in store.known_hashes("use-multilingual")
    store.close()


@BOTH
def test_deletion_is_one_transaction(world):
    """A failure at the very end of the deletion (while collecting vectors) leaves every row
    of every table as it was."""
    db = world["db"]
    store = Store(db)
    before = everything(db)

    def fail() -> set[str]:
        raise RuntimeError("disk on fire")

    for deletion in (lambda: store.delete_association(A, fail),
                     lambda: store.delete_partner(P, fail)):
        with pytest.raises(RuntimeError):
            deletion()
        assert everything(db) == before
    store.close()


LESSON_TEXT = "Qlesson: our pumps now run on the partner's schedule and the pits stay dry"


@BOTH
def test_lessons_and_their_audit_leave_with_the_association(world):
    m1 = world["matches"]["m1"]
    client, headers = world["client"], world["headers"]
    for action, body in (("activate", {}), ("outcome", {"outcome": "training"})):
        response = client.post(f"/api/v1/matches/{m1}/{action}", json=body,
                               headers=headers["coord"])
        assert response.status_code == 200, response.text
    for who, text in (("a", LESSON_TEXT), ("p", "Qlesson from the partner's side")):
        written = client.post(f"/api/v1/matches/{m1}/lesson", json={
            "text": text, "worked": True, "figures": {"members_trained": 9}},
            headers=headers[who])
        assert written.status_code == 201, written.text

    data = get(world, "a", f"/api/v1/associations/{A}/data").json()
    assert sorted(item["side"] for item in data["lessons"]) == ["association", "counterpart"]
    assert [row["action"] for row in data["lesson_audit"]] == ["write", "write"]
    assert not any(LESSON_TEXT in str(row) for row in data["lesson_audit"])
    body = delete(world, "a", f"/api/v1/associations/{A}").json()

    assert body["deleted"]["lessons"] == 2 and body["deleted"]["lesson_audit"] == 2
    assert count(world["db"], "lessons") == 0 and count(world["db"], "lesson_audit") == 0
    assert leaks(world["db"], {"Qlesson"}) == []  # nor in the search index
