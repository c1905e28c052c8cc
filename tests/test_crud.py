"""Profiles over HTTP: create / read / update / delete round trips, validation, no mass
assignment, sensitive needs, and the filtered, sorted, paginated lists.

A module copy of the demo database, the real embedding model (see conftest.py) and TestClient.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import copy_database, make_tokens

from api.app import create_app
from matcher.exchange import Association
from matcher.principals import Principal, Role
from matcher.services import profiles
from matcher.settings import load_settings
from matcher.workflow.sensitive import neutral_summary

V1 = "/api/v1"
A, A_REGION = "demo-a-01", "africa_anglophone"  # GH; posted demo-n-001 (ohs)
B, B_REGION = "demo-a-12", "latin_america_caribbean"  # CO; posted demo-n-033 (sgbv)
SGBV_NEED = "demo-n-033"
P, Q = "demo-p-01", "demo-p-07"


@pytest.fixture(scope="module")
def crud_db(demo_db, tmp_path_factory) -> Path:
    return copy_database(demo_db, tmp_path_factory.mktemp("crud"))


@pytest.fixture(scope="module")
def tokens(crud_db) -> dict[str, dict[str, str]]:
    """Authorization headers per role name."""
    return make_tokens(crud_db, {
        "admin": (Role.ADMIN, {}),
        "association_A": (Role.ASSOCIATION, {"association_id": A}),
        "association_B": (Role.ASSOCIATION, {"association_id": B}),
        "partner_P": (Role.PARTNER, {"partner_id": P}),
        "partner_Q": (Role.PARTNER, {"partner_id": Q}),
        "coordinator_R1": (Role.COORDINATOR, {"regions": [A_REGION]}),
        "coordinator_R2": (Role.COORDINATOR, {"regions": [B_REGION]}),
    }, named=True)


@pytest.fixture(scope="module")
def app(crud_db, tokens):
    return create_app(load_settings(db=crud_db))


@pytest.fixture(scope="module")
def http(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def as_(http, tokens):
    """``as_("admin").get(url)``: requests with one role's token."""
    class Caller:
        def __init__(self, name: str):
            self.headers = tokens[name]

        def __getattr__(self, method: str):
            def call(url: str, headers: dict | None = None, **kwargs):
                return getattr(http, method)(url, headers={**self.headers, **(headers or {})},
                                             **kwargs)
            return call
    return Caller


def data_version(app) -> int:
    return app.state.engines.get().store.data_version()


# ---------------------------------------------------------------------- round trips
def test_association_round_trip_create_read_update(as_, app):
    body = {"id": "a-crud-1", "name": "  Kpalime Gold Diggers ", "country": "GH",
            "languages": ["en", "ee"], "commodities": ["gold"], "members": 35,
            "contact": {"name": "Ama", "whatsapp": "+233 20 123 4567"}}
    before = data_version(app)
    created = as_("admin").post(f"{V1}/associations", json=body)

    assert created.status_code == 201, created.text
    record = created.json()
    assert record["id"] == "a-crud-1" and record["name"] == "Kpalime Gold Diggers"
    assert record["region"] == "africa_anglophone"  # from the country, as the import does
    assert record["visibility"] == "full" and record["contact"]["whatsapp"] == "+233 20 123 4567"
    assert data_version(app) > before
    assert as_("coordinator_R1").get(f"{V1}/associations/a-crud-1").json() == record

    changed = as_("coordinator_R1").patch(f"{V1}/associations/a-crud-1",
                                          json={"members": 40, "description": "New pit."})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**record, "members": 40, "description": "New pit."}
    assert as_("admin").get(f"{V1}/associations/a-crud-1").json()["members"] == 40


def test_association_created_without_id_gets_one(as_):
    created = as_("coordinator_R2").post(f"{V1}/associations",
                                         json={"name": "Mineras de Nariño", "country": "CO"})

    assert created.status_code == 201, created.text
    assert created.json()["id"].startswith("a-") and created.json()["region"] == B_REGION


def test_association_id_taken_is_409(as_):
    response = as_("admin").post(f"{V1}/associations", json={"id": A, "name": "X",
                                                            "country": "GH"})

    assert response.status_code == 409
    assert A in response.json()["detail"]


def test_coordinator_creates_associations_only_in_their_regions(as_):
    response = as_("coordinator_R1").post(f"{V1}/associations",
                                          json={"name": "Elsewhere", "country": "CO"})

    assert response.status_code == 403
    assert as_("admin").get(f"{V1}/associations", params={"q": "Elsewhere"}).json()["total"] == 0


def test_association_changes_its_profile_but_not_its_region(as_):
    own = as_("association_A").patch(f"{V1}/associations/{A}", json={"members": 241})
    move = as_("association_A").patch(f"{V1}/associations/{A}",  # BF: africa_francophone
                                      json={"country": "BF"})
    foreign_coordinator = as_("coordinator_R2").patch(f"{V1}/associations/{A}",
                                                      json={"members": 1})

    assert own.status_code == 200 and own.json()["members"] == 241
    assert move.status_code == 403 and "region" in move.json()["detail"]
    assert foreign_coordinator.status_code == 403
    assert as_("admin").get(f"{V1}/associations/{A}").json()["region"] == A_REGION


def test_need_round_trip_create_read_update_delete(as_, app):
    url = f"{V1}/associations/{A}/needs"
    created = as_("association_A").post(url, json={"text": "We need a generator for the "
                                                           "wash plant.", "category": "technology"})
    assert created.status_code == 201, created.text
    need = created.json()
    assert need["association_id"] == A and need["id"].startswith("n-")
    assert need == {**need, "category": "technology", "sensitive": False, "text_hidden": False}
    assert as_("coordinator_R1").get(f"{V1}/needs/{need['id']}").json() == need

    version = data_version(app)
    changed = as_("admin").patch(f"{V1}/needs/{need['id']}", json={"category": None,
                                                                   "text": "A diesel generator."})
    assert changed.status_code == 200, changed.text
    assert changed.json()["text"] == "A diesel generator." and changed.json()["category"] is None
    assert data_version(app) > version
    listed = as_("association_A").get(f"{V1}/needs", params={"association_id": A}).json()
    assert need["id"] in [n["id"] for n in listed["items"]]

    deleted = as_("association_A").delete(f"{V1}/needs/{need['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert as_("association_A").get(f"{V1}/needs/{need['id']}").status_code == 404
    assert as_("association_A").delete(f"{V1}/needs/{need['id']}").status_code == 404


def test_new_needs_go_last_in_their_associations_order(as_, app):
    first = as_("association_B").post(f"{V1}/associations/{B}/needs", json={"text": "One."})
    second = as_("association_B").post(f"{V1}/associations/{B}/needs", json={"text": "Two."})
    store = app.state.engines.get().store

    order = [n["id"] for n in store.needs(B)]
    assert order[-2:] == [first.json()["id"], second.json()["id"]]


def test_practice_round_trip_create_read_update_delete(as_):
    created = as_("coordinator_R2").post(f"{V1}/associations/{B}/practices",
                                         json={"text": "We keep a savings box.",
                                               "category": "finance"})
    assert created.status_code == 201, created.text
    practice = created.json()
    assert practice["association_id"] == B and practice["category"] == "finance"
    assert as_("association_A").get(f"{V1}/practices/{practice['id']}").json() == practice

    changed = as_("association_B").patch(f"{V1}/practices/{practice['id']}",
                                         json={"text": "We keep a weekly savings box."})
    assert changed.status_code == 200
    assert changed.json() == {**practice, "text": "We keep a weekly savings box."}
    assert as_("association_B").delete(f"{V1}/practices/{practice['id']}").status_code == 204
    assert as_("admin").get(f"{V1}/practices/{practice['id']}").status_code == 404


def test_partner_round_trip_create_read_update(as_):
    created = as_("admin").post(f"{V1}/partners", json={
        "id": "p-crud-1", "name": "Gold Loans Ltd", "type": "financial_institution",
        "languages": ["en"], "contact": {"email": "loans@example.org"}})
    assert created.status_code == 201, created.text
    partner = created.json()
    assert partner["contact"] == {"name": None, "phone": None, "whatsapp": None,
                                  "email": "loans@example.org"}

    seen_by_association = as_("association_A").get(f"{V1}/partners/p-crud-1").json()
    assert seen_by_association == {**partner, "contact": None}
    assert as_("coordinator_R2").get(f"{V1}/partners/p-crud-1").json() == partner

    changed = as_("admin").patch(f"{V1}/partners/p-crud-1", json={"description": "Loans."})
    assert changed.status_code == 200 and changed.json()["description"] == "Loans."


def test_partner_changes_itself_but_not_another_partner(as_):
    own = as_("partner_P").patch(f"{V1}/partners/{P}", json={"languages": ["en", "fr"]})
    other = as_("partner_P").patch(f"{V1}/partners/{Q}", json={"name": "Mine now"})

    assert own.status_code == 200 and own.json()["languages"] == ["en", "fr"]
    assert other.status_code == 403
    assert as_("admin").get(f"{V1}/partners/{Q}").json()["name"] != "Mine now"


def test_offering_round_trip_create_read_update_delete(as_):
    body = {"title": "Equipment leasing", "category": "finance",
            "regions": ["africa_anglophone"], "countries": ["GH", "KE"], "languages": ["en"],
            "commodities": ["gold"], "eligibility": {"min_members": 20},
            "capacity": 3, "valid_until": "2030-06-30"}
    created = as_("partner_P").post(f"{V1}/partners/{P}/offerings", json=body)
    assert created.status_code == 201, created.text
    offering = created.json()
    assert offering["partner_id"] == P and offering["id"].startswith("o-")
    assert offering["eligibility"] == {"women_led_only": False, "min_members": 20,
                                       "requires_formal_license": False}
    assert offering["valid_until"] == "2030-06-30" and offering["active"] is True
    assert as_("association_B").get(f"{V1}/offerings/{offering['id']}").json() == offering

    changed = as_("partner_P").patch(f"{V1}/offerings/{offering['id']}",
                                     json={"active": False, "capacity": None})
    assert changed.status_code == 200
    assert changed.json() == {**offering, "active": False, "capacity": None}
    assert as_("partner_Q").delete(f"{V1}/offerings/{offering['id']}").status_code == 403
    assert as_("partner_P").delete(f"{V1}/offerings/{offering['id']}").status_code == 204
    assert as_("partner_P").get(f"{V1}/offerings/{offering['id']}").status_code == 404


def test_partner_cannot_add_offerings_to_another_partner(as_):
    response = as_("partner_P").post(f"{V1}/partners/{Q}/offerings",
                                     json={"title": "Sneaky", "category": "finance"})

    assert response.status_code == 403
    assert as_("admin").get(f"{V1}/offerings", params={"q": "Sneaky"}).json()["total"] == 0


def test_nested_create_under_a_missing_parent_is_404(as_):
    assert as_("admin").post(f"{V1}/associations/demo-a-99/needs",
                             json={"text": "x"}).status_code == 404
    assert as_("admin").post(f"{V1}/partners/demo-p-99/offerings",
                             json={"title": "x", "category": "ohs"}).status_code == 404


def test_deleting_a_need_with_matches_is_409(as_, app):
    store = app.state.engines.get().store
    store.create_match({"kind": "partner", "need_id": "demo-n-002", "association_id": A,
                        "item_id": "demo-o-009", "owner_id": "demo-p-04", "score": 1.0},
                       actor="test", role="admin")

    response = as_("association_A").delete(f"{V1}/needs/demo-n-002")

    assert response.status_code == 409 and "match" in response.json()["detail"]
    assert store.get("needs", "demo-n-002") is not None


# ---------------------------------------------------------------------- validation
WRITES = [  # (role, method, url, a valid body)
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH"}),
    ("admin", "patch", f"{V1}/associations/{A}", {"members": 241}),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "A need."}),
    ("association_A", "patch", f"{V1}/needs/demo-n-001", {"category": "ohs"}),
    ("association_A", "post", f"{V1}/associations/{A}/practices", {"text": "A practice."}),
    ("association_A", "patch", f"{V1}/practices/demo-pr-001", {"category": "finance"}),
    ("admin", "post", f"{V1}/partners", {"name": "X"}),
    ("partner_P", "patch", f"{V1}/partners/{P}", {"type": "ngo"}),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings", {"title": "X", "category": "ohs"}),
    ("partner_P", "patch", f"{V1}/offerings/demo-o-001", {"capacity": 6}),
]


@pytest.mark.parametrize("role,method,url,body", WRITES, ids=[f"{m} {u}" for _, m, u, _ in WRITES])
@pytest.mark.parametrize("field", ["unexpected", "owner", "association_id", "partner_id", "role",
                                   "status", "reviewer", "position", "visibility"])
def test_unknown_or_protected_fields_are_422(as_, role, method, url, body, field):
    response = getattr(as_(role), method)(url, json={**body, field: "demo-a-12"})

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(e["loc"] == ["body", field] and e["type"] == "extra_forbidden" for e in detail)


def test_nested_records_cannot_change_their_owner(as_):
    need = as_("association_A").patch(f"{V1}/needs/demo-n-001", json={"association_id": B})
    offering = as_("partner_P").patch(f"{V1}/offerings/demo-o-001", json={"partner_id": Q})
    ids = as_("admin").patch(f"{V1}/associations/{A}", json={"id": "a-stolen"})

    assert need.status_code == offering.status_code == ids.status_code == 422
    assert as_("admin").get(f"{V1}/needs/demo-n-001").json()["association_id"] == A
    assert as_("admin").get(f"{V1}/offerings/demo-o-001").json()["partner_id"] == P


INVALID = [  # (role, method, url, body, the field named in the error)
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "XX"}, "country"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "gh"}, "country"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "EU"}, "country"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH", "region": "europe"},
     "region"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH",
                                             "commodities": ["uranium"]}, "commodities"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH",
                                             "languages": ["English"]}, "languages"),
    ("admin", "post", f"{V1}/associations", {"name": "", "country": "GH"}, "name"),
    ("admin", "post", f"{V1}/associations", {"name": "x" * 301, "country": "GH"}, "name"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH", "members": -1},
     "members"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH", "members": "12"},
     "members"),
    ("admin", "post", f"{V1}/associations", {"id": "has space", "name": "X", "country": "GH"},
     "id"),
    ("admin", "post", f"{V1}/associations", {"name": "X", "country": "GH",
                                             "contact": {"phone": "call me"}}, "contact"),
    ("admin", "patch", f"{V1}/associations/{A}", {"name": None}, "name"),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "   "}, "text"),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "x" * 10_001}, "text"),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "A", "category": "sgbv2"},
     "category"),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "A", "sensitive": "yes"},
     "sensitive"),
    ("association_A", "post", f"{V1}/associations/{A}/needs", {"text": "\ud800"}, "text"),
    ("association_A", "post", f"{V1}/associations/{A}/practices", {"category": "finance"}, "text"),
    ("admin", "post", f"{V1}/partners", {"name": "X", "type": "charity"}, "type"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings", {"title": "X"}, "category"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "countries": ["ZZ"]}, "countries"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "regions": ["antarctica"]}, "regions"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "capacity": -2}, "capacity"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "valid_until": "next year"}, "valid_until"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "eligibility": {"min_members": -5}}, "eligibility"),
    ("partner_P", "post", f"{V1}/partners/{P}/offerings",
     {"title": "X", "category": "ohs", "eligibility": {"vip": True}}, "eligibility"),
    ("partner_P", "patch", f"{V1}/offerings/demo-o-001", {"active": None}, "active"),
]


@pytest.mark.parametrize("role,method,url,body,field", INVALID,
                         ids=[f"{m} {u} {f}" for _, m, u, _, f in INVALID])
def test_invalid_values_are_422_naming_the_field(as_, role, method, url, body, field):
    response = getattr(as_(role), method)(url, content=json.dumps(body),  # escapes surrogates
                                          headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and e["msg"] for e in detail), detail


def test_a_need_failing_validation_never_echoes_its_text(as_):
    secret = "Confidential: the guard at pit 4 threatens the women who wash ore"
    responses = [
        as_("association_A").post(f"{V1}/associations/{A}/needs",
                                  json={"text": secret, "category": "nope"}),
        as_("association_A").post(f"{V1}/associations/{A}/needs",
                                  json={"text": secret, "extra": 1}),
        as_("association_A").post(f"{V1}/associations/{A}/needs", json={"txt": secret}),
        as_("association_A").patch(f"{V1}/needs/demo-n-001", json={"text": secret * 200}),
    ]

    assert [r.status_code for r in responses] == [422] * 4
    assert not any("pit 4" in r.text for r in responses)


# ---------------------------------------------------------------------- suggestions right away
def test_need_created_over_http_gets_suggestions_right_away(as_):
    text = ("Mercury vapour when we burn the amalgam is making people sick. We want a "
            "mercury-free way to recover the gold, like a shaking table or a sluice.")
    need = as_("association_A").post(f"{V1}/associations/{A}/needs", json={"text": text}).json()

    response = as_("association_A").get(f"{V1}/needs/{need['id']}/suggestions",
                                        params={"limit": 5})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["need_id"] == need["id"] and body["category_inferred"]
    offerings = [s["offering_id"] for s in body["suggestions"]]
    assert "demo-o-002" in offerings  # the mercury-free gravity processing pilot


def test_changed_need_text_changes_its_suggestions(as_):
    need = as_("association_A").post(f"{V1}/associations/{A}/needs", json={
        "text": "We need training on pit safety, shoring and ventilation."}).json()
    url = f"{V1}/needs/{need['id']}/suggestions"
    before = as_("association_A").get(url, params={"limit": 3}).json()["suggestions"]

    as_("association_A").patch(f"{V1}/needs/{need['id']}", json={
        "text": "We need a loan for a crusher; the banks ask for land titles as collateral."})
    after = as_("association_A").get(url, params={"limit": 3}).json()["suggestions"]

    assert before[0]["offering_id"] == "demo-o-001"
    assert [s["offering_id"] for s in after] != [s["offering_id"] for s in before]


# ---------------------------------------------------------------------- sensitive needs
def test_sgbv_need_is_sensitive_by_default_and_a_flag_overrides_it(as_):
    sgbv = as_("association_B").get(f"{V1}/needs/{SGBV_NEED}").json()
    flagged = as_("association_A").post(f"{V1}/associations/{A}/needs", json={
        "text": "Our treasurer ran off with the savings.", "category": "finance",
        "sensitive": True}).json()
    unflagged = as_("association_A").post(f"{V1}/associations/{A}/needs", json={
        "text": "Training for our gender desk volunteers.", "category": "sgbv",
        "sensitive": False}).json()

    assert sgbv["sensitive"] is True and sgbv["text_hidden"] is False
    assert flagged["sensitive"] is True
    assert unflagged["sensitive"] is False


def test_need_inferred_as_sgbv_is_sensitive(as_):
    need = as_("association_A").post(f"{V1}/associations/{A}/needs", json={
        "text": "Some buyers and guards sexually harass the women who crush ore and we do not "
                "know where to report the abuse."}).json()

    assert need["category"] is None
    assert need["sensitive"] is True


@pytest.mark.parametrize("role", ["association_B", "coordinator_R2", "admin"])
def test_sensitive_need_text_is_shown_to_its_association_region_coordinators_and_admins(
        as_, role):
    response = as_(role).get(f"{V1}/needs/{SGBV_NEED}")

    assert response.status_code == 200
    assert "acoso y violencia" in response.json()["text"]


@pytest.mark.parametrize("role", ["association_A", "coordinator_R1", "partner_P", "partner_Q"])
def test_sensitive_need_text_is_shown_to_nobody_else(as_, role):
    one = as_(role).get(f"{V1}/needs/{SGBV_NEED}")
    listed = as_(role).get(f"{V1}/needs", params={"q": "acoso", "limit": 100})
    everything = as_(role).get(f"{V1}/needs", params={"limit": 100})

    assert one.status_code == 404
    assert listed.status_code in (200, 403) and everything.status_code in (200, 403)
    for response in (one, listed, everything):
        assert "acoso" not in response.text and SGBV_NEED not in response.text.replace(
            f"no need with id '{SGBV_NEED}'", "")


def test_neutral_summary_replaces_a_sensitive_text_for_whoever_may_not_read_it(app):
    """Nobody outside the readers sees a need through the profile routes; the one function
    that renders a need for a caller still hides the text from anyone else (e.g. a partner
    shown the need through a match)."""
    engine = app.state.engines.get()
    need = engine.store.get("needs", SGBV_NEED)
    association = engine.store.get("associations", B)
    partner = Principal(role=Role.PARTNER, partner_id=Q)
    owner = Principal(role=Role.ASSOCIATION, association_id=B)

    hidden = profiles.view(engine, partner, "needs", need, "es", association)
    shown = profiles.view(engine, owner, "needs", need, association=association)

    assert hidden["text_hidden"] and hidden["sensitive"]
    assert hidden["text"] == neutral_summary("sgbv", association, engine.ref, "es")
    assert "acoso" not in hidden["text"] and "Colombia" not in hidden["text"]
    assert "América Latina" in hidden["text"]  # the regional network, nothing finer
    assert not shown["text_hidden"] and shown["text"] == need["text"]


# ---------------------------------------------------------------------- lists
def test_lists_return_items_total_limit_and_offset(as_):
    first = as_("admin").get(f"{V1}/partners", params={"limit": 5}).json()
    second = as_("admin").get(f"{V1}/partners", params={"limit": 5, "offset": 5}).json()

    assert first["limit"] == 5 and first["offset"] == 0 and len(first["items"]) == 5
    assert first["total"] == second["total"] >= 20
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


@pytest.mark.parametrize("path", ["associations", "partners", "offerings", "needs", "practices"])
@pytest.mark.parametrize("params", [{"limit": 201}, {"limit": 0}, {"offset": -1},
                                    {"sort": "password"}, {"sort": "--name"}])
def test_list_limits_and_sorts_outside_the_allow_list_are_422(as_, path, params):
    response = as_("admin").get(f"{V1}/{path}", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_list_page_size_defaults_to_50_and_accepts_100(as_):
    default = as_("admin").get(f"{V1}/needs").json()
    most = as_("admin").get(f"{V1}/needs", params={"limit": 100}).json()

    assert default["limit"] == 50 and len(default["items"]) == 50
    assert most["limit"] == 100 and len(most["items"]) == most["total"] > 50


def test_list_sorts_ascending_and_descending(as_):
    up = as_("admin").get(f"{V1}/associations", params={"sort": "members", "limit": 100})
    down = as_("admin").get(f"{V1}/associations", params={"sort": "-members", "limit": 100})

    members = [a["members"] for a in up.json()["items"]]
    assert members == sorted(members)
    assert [a["members"] for a in down.json()["items"]] == sorted(members, reverse=True)


@pytest.mark.parametrize("path,params,check", [
    ("associations", {"region": "south_central_asia"},
     lambda a: a["region"] == "south_central_asia"),
    ("associations", {"country": "PE"}, lambda a: a["country"] == "PE"),
    ("associations", {"commodity": "salt"}, lambda a: "salt" in a["commodities"]),
    ("associations", {"language": "fr"}, lambda a: "fr" in a["languages"]),
    ("offerings", {"category": "finance"}, lambda o: o["category"] == "finance"),
    ("offerings", {"region": "southeast_asia_pacific"},
     lambda o: not o["regions"] or "southeast_asia_pacific" in o["regions"]),
    ("offerings", {"country": "PG"}, lambda o: not o["countries"] or "PG" in o["countries"]),
    ("offerings", {"commodity": "jade"}, lambda o: not o["commodities"] or "jade" in o["commodities"]),
    ("offerings", {"language": "pt"}, lambda o: "pt" in o["languages"]),
    ("offerings", {"partner_id": "demo-p-09"}, lambda o: o["partner_id"] == "demo-p-09"),
    ("needs", {"category": "ohs"}, lambda n: n["category"] == "ohs"),
    ("needs", {"association_id": A}, lambda n: n["association_id"] == A),
    ("practices", {"category": "gender"}, lambda p: p["category"] == "gender"),
    ("partners", {"language": "es"}, lambda p: "es" in p["languages"]),
])
def test_list_filters_select_matching_records_only(as_, path, params, check):
    everything = as_("admin").get(f"{V1}/{path}", params={"limit": 100}).json()
    response = as_("admin").get(f"{V1}/{path}", params={**params, "limit": 100})

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items and all(check(item) for item in items)
    assert len(items) < everything["total"]
    assert response.json()["total"] == len(items)


def test_needs_filtered_by_region_belong_to_associations_there(as_):
    needs = as_("admin").get(f"{V1}/needs", params={"region": B_REGION, "limit": 100}).json()
    region_of = {a["id"]: a["region"] for a in as_("admin").get(
        f"{V1}/associations", params={"limit": 100}).json()["items"]}

    assert needs["items"] and {region_of[n["association_id"]] for n in needs["items"]} == {
        B_REGION}


def test_partners_filtered_by_category_have_an_offering_in_it(as_):
    partners = as_("admin").get(f"{V1}/partners", params={"category": "sgbv"}).json()["items"]
    offerings = as_("admin").get(f"{V1}/offerings", params={"category": "sgbv"}).json()["items"]

    assert partners and {p["id"] for p in partners} == {o["partner_id"] for o in offerings}


def test_text_search_is_case_insensitive_and_accent_aware(as_):
    plain = as_("admin").get(f"{V1}/associations", params={"q": "barequeras"}).json()
    shouting = as_("admin").get(f"{V1}/associations", params={"q": "ASOCIACIÓN DE BAREQUERAS"})

    assert [a["id"] for a in plain["items"]] == [B]
    assert [a["id"] for a in shouting.json()["items"]] == [B]
    offering = as_("partner_Q").get(f"{V1}/offerings", params={"q": "MERCURY-FREE"}).json()
    assert "demo-o-002" in [o["id"] for o in offering["items"]]


@pytest.mark.parametrize("role,allowed", [
    ("association_A", {A}),
    ("coordinator_R2", None),  # every association of its region
    ("admin", None),
])
def test_needs_list_holds_only_what_the_caller_may_read(as_, role, allowed):
    items = as_(role).get(f"{V1}/needs", params={"limit": 100}).json()["items"]
    regions = {a["id"]: a["region"] for a in as_("admin").get(
        f"{V1}/associations", params={"limit": 100}).json()["items"]}

    assert items
    owners = {n["association_id"] for n in items}
    if role == "association_A":
        assert owners == allowed
    elif role == "coordinator_R2":
        assert {regions[o] for o in owners} == {B_REGION}
    else:
        assert len(owners) > 10


def test_partners_may_not_list_associations_needs_or_practices(as_):
    for path in ("associations", "needs", "practices"):
        assert as_("partner_P").get(f"{V1}/{path}").status_code == 403


def test_other_associations_show_their_public_profile_only(as_, app):
    store = app.state.engines.get().store
    store.update_record("associations", _with_contact(store.get("associations", B)))

    public = as_("association_A").get(f"{V1}/associations/{B}").json()
    listed = as_("association_A").get(f"{V1}/associations", params={"q": "barequeras"}).json()
    full = as_("coordinator_R2").get(f"{V1}/associations/{B}").json()

    assert public["visibility"] == "public" and public["contact"] is None
    assert listed["items"] == [public]
    assert full["visibility"] == "full" and full["contact"]["whatsapp"] == "+57 300 000 0000"
    assert "+57 300" not in str(public) + str(listed)


def _with_contact(row: dict) -> Association:
    fields = {k: row[k] for k in Association.model_fields if k in row}
    return Association(**{**fields, "contact": {"whatsapp": "+57 300 000 0000"}})
