"""The authorization matrix: every role x every operation of the OpenAPI x objects of both sides.

Roles: anonymous, association A and B, partner P and Q, coordinators of region R1 and R2, admin.
Side 1 is A (R1) and P; side 2 is B (R2) and Q. Every operation is called by every role on the
objects of each side. An operation missing from the policy table fails; anonymous callers get
401; roles outside an operation's policy get 403; objects owned by someone else are refused
(401/403/404) unless :mod:`matcher.policy` makes them readable, and refusals carry nothing of
the other organisation. The profile operations are checked against their exact outcomes;
operations of other areas at least against those rules. Every response body is scanned for
sensitive need texts and contacts that its caller may not read: they appear in none.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import copy_database, make_tokens

from api.app import create_app
from api.security import POLICY, PUBLIC
from matcher.exchange import Association, Need, Offering, Partner, Practice
from matcher.principals import Role
from matcher.settings import load_settings
from matcher.store import Store

R1, R2 = "africa_anglophone", "latin_america_caribbean"
SIDES = {
    1: {"association": "demo-a-01", "need": "demo-n-001", "practice": "demo-pr-001",
        "partner": "demo-p-01", "offering": "demo-o-001", "region": R1, "country": "GH"},
    2: {"association": "demo-a-12", "need": "demo-n-033", "practice": "demo-pr-016",
        "partner": "demo-p-07", "offering": "demo-o-016", "region": R2, "country": "CO"},
}
ROLES: dict[str, tuple[Role | None, int | None]] = {
    "anonymous": (None, None),
    "association_A": (Role.ASSOCIATION, 1), "association_B": (Role.ASSOCIATION, 2),
    "partner_P": (Role.PARTNER, 1), "partner_Q": (Role.PARTNER, 2),
    "coordinator_R1": (Role.COORDINATOR, 1), "coordinator_R2": (Role.COORDINATOR, 2),
    "admin": (Role.ADMIN, None),
}
CONTACTS = {"demo-a-01": "+233 20 111 1111", "demo-a-12": "+57 310 222 2222",
            "demo-p-01": "+44 20 7000 0001", "demo-p-07": "+51 1 700 0007"}
MARKER = "Zqx confidential: the night guard at shaft 7 threatens the women who carry ore"
PATH_KINDS = {"association_id": "association", "need_id": "need", "practice_id": "practice",
              "partner_id": "partner", "offering_id": "offering", "match_id": "match"}
ASSOCIATION_OWNED = {"association", "need", "practice"}
PARTNER_OWNED = {"partner", "offering"}
REFUSED = {401, 403, 404}


def _operations() -> list[tuple[str, str, dict]]:
    """(method, path, operation) for every operation in the app's OpenAPI document (the app
    is only built, never started: no database is opened)."""
    app = create_app(load_settings(db=Path("never-opened.db")))
    ops = [(method.upper(), path, op) for path, item in app.openapi()["paths"].items()
           for method, op in item.items()]
    return sorted(ops, key=lambda o: (o[0] != "GET", o[1], o[0]))  # reads before writes


OPERATIONS = _operations()


# ---------------------------------------------------------------------- fixtures
@dataclass
class World:
    client: TestClient
    store: Store
    headers: dict[str, dict[str, str]]
    secrets: dict[str, set[str]]  # a string -> the roles that may read it
    private: dict[int, list[str]]  # side -> strings no refusal may carry
    matches: dict[int, int]  # side -> a match between its association's need and partner
    spec: dict


@pytest.fixture(scope="module")
def world(demo_db, tmp_path_factory):
    db = copy_database(demo_db, tmp_path_factory.mktemp("authz"))
    specs = {}
    for name, (role, side) in ROLES.items():
        if role is None:
            continue
        specs[name] = (role, {} if side is None else {
            Role.ASSOCIATION: {"association_id": SIDES[side]["association"]},
            Role.PARTNER: {"partner_id": SIDES[side]["partner"]},
            Role.COORDINATOR: {"regions": [SIDES[side]["region"]]},
        }.get(role, {}))
    headers = {"anonymous": {}, **make_tokens(db, specs, named=True)}
    store = Store(db, check_same_thread=False)
    for org, phone in CONTACTS.items():
        table, model = ("associations", Association) if "-a-" in org else ("partners", Partner)
        row = store.get(table, org)
        store.update_record(table, model(**{**_fields(model, row), "contact": {"whatsapp": phone}}))
    store.create_record("needs", Need(id="n-marker-a", text=MARKER, category="finance",
                                      sensitive=True), "demo-a-01")
    matches = {side: _match(store, s["need"], s["association"], s["offering"], s["partner"])
               for side, s in SIDES.items()}
    texts = {n["id"]: n["text"] for n in store.needs()}
    coordinators = {"coordinator_R1", "coordinator_R2"}
    secrets = {
        MARKER: {"association_A", "coordinator_R1", "admin"},
        texts["demo-n-033"]: {"association_B", "coordinator_R2", "admin"},  # sgbv, B's
        texts["demo-n-005"]: {"coordinator_R1", "admin"},  # sgbv, of demo-a-02 in R1
        texts["demo-n-001"]: {"association_A", "coordinator_R1", "admin", "partner_P"},
        CONTACTS["demo-a-01"]: {"association_A", "coordinator_R1", "admin"},
        CONTACTS["demo-a-12"]: {"association_B", "coordinator_R2", "admin"},
        CONTACTS["demo-p-01"]: {"partner_P", "admin", *coordinators},
        CONTACTS["demo-p-07"]: {"partner_Q", "admin", *coordinators},
    }
    private = {}
    for side, s in SIDES.items():
        association = store.get("associations", s["association"])
        private[side] = [association["name"], CONTACTS[s["association"]],
                         CONTACTS[s["partner"]], store.get("partners", s["partner"])["name"],
                         *(n["text"] for n in store.needs(s["association"])),
                         store.get("practices", s["practice"])["text"],
                         store.get("offerings", s["offering"])["title"]]
    app = create_app(load_settings(db=db))
    root = logging.getLogger()
    level = root.level
    root.addHandler(LOGGED)
    root.setLevel(logging.DEBUG)
    try:
        with TestClient(app) as client:
            yield World(client, store, headers, secrets, private, matches, app.openapi())
    finally:
        root.removeHandler(LOGGED)
        root.setLevel(level)
        store.close()


class _Collector(logging.Handler):
    """Every log line written while the module's world exists, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


LOGGED = _Collector()


def _fields(model, row: dict) -> dict:
    return {k: row[k] for k in model.model_fields if k in row}


def _match(store: Store, need_id: str, association_id: str, offering_id: str,
           partner_id: str) -> int:
    return store.create_match({"kind": "partner", "need_id": need_id,
                               "association_id": association_id, "item_id": offering_id,
                               "owner_id": partner_id, "score": 1.0},
                              actor="authz fixture", role="admin")["id"]


_fresh_counter = iter(range(1, 1_000_000))


def _fresh(world: World, kind: str, side: int) -> str:
    """A new object of ``kind`` on ``side`` for one destructive request. Needs, practices and
    offerings belong to the side's association or partner; a new association is in the side's
    region but belongs to no token; a new partner to no token either."""
    s, n = SIDES[side], next(_fresh_counter)
    store = world.store
    if kind == "association":
        return store.create_record("associations", Association(
            id=f"a-fresh-{n}", name=f"Fresh association {n}", country=s["country"],
            region=s["region"]))["id"]
    if kind == "partner":
        return store.create_record("partners", Partner(id=f"p-fresh-{n}",
                                                       name=f"Fresh partner {n}"))["id"]
    if kind == "need":
        return store.create_record("needs", Need(id=f"n-fresh-{n}", text=f"Fresh need {n}.",
                                                 category="training"), s["association"])["id"]
    if kind == "practice":
        return store.create_record("practices", Practice(
            id=f"pr-fresh-{n}", text=f"Fresh practice {n}.", category="training"),
            s["association"])["id"]
    if kind == "offering":
        return store.create_record("offerings", Offering(
            id=f"o-fresh-{n}", title=f"Fresh offering {n}", category="training"),
            s["partner"])["id"]
    need = _fresh(world, "need", side)
    return str(_match(store, need, s["association"], s["offering"], s["partner"]))


# ---------------------------------------------------------------------- who relates how
def level(role_name: str, kind: str, side: int, fresh: bool) -> str:
    """How ``role_name`` relates to an object of ``kind`` on ``side``.

    Association-owned objects: ``full`` (admin, the association, its region's coordinator),
    ``peer`` (another association, another region's coordinator), ``none`` (partners).
    Partner-owned: ``owner`` (admin, the partner), ``reader`` (everyone else).
    Matches: ``party`` (admin, the side's association, partner and coordinator), ``none``.
    A fresh association or partner belongs to no token: only admins and the region's
    coordinator are ``full`` / ``owner`` there."""
    role, role_side = ROLES[role_name]
    mine = role_side == side
    if role is Role.ADMIN:
        return "party" if kind == "match" else "owner" if kind in PARTNER_OWNED else "full"
    if kind == "match":
        return "party" if mine else "none"
    if kind in PARTNER_OWNED:
        owns = role is Role.PARTNER and mine and not (fresh and kind == "partner")
        return "owner" if owns else "reader"
    if role is Role.PARTNER:
        return "none"
    owns = mine and not (fresh and kind == "association" and role is Role.ASSOCIATION)
    return "full" if owns else "peer"


# Exact outcomes of the operations whose semantics this suite knows, by the caller's level
# towards the object in the path (roles outside POLICY[op] are 403 in any case).
KNOWN: dict[str, dict[str, int]] = {
    "get_association": {"full": 200, "peer": 200, "none": 404},
    "update_association": {"full": 200, "peer": 403},
    "create_need": {"full": 201, "peer": 403},
    "get_need": {"full": 200, "peer": 404, "none": 404},
    "update_need": {"full": 200, "peer": 404},
    "delete_need": {"full": 204, "peer": 404},
    "create_practice": {"full": 201, "peer": 403},
    "get_practice": {"full": 200, "peer": 200, "none": 404},
    "update_practice": {"full": 200, "peer": 403},
    "delete_practice": {"full": 204, "peer": 403},
    "need_suggestions": {"full": 200, "peer": 404},
    "association_suggestions": {"full": 200, "peer": 404},
    "answer_match": {"party": 200, "none": 404},
    "list_match_comments": {"party": 200, "none": 404},
    "comment_match": {"party": 201, "none": 404},
    "write_lesson": {"party": 409, "none": 404},  # the matrix's matches have no outcome yet
    "get_partner": {"owner": 200, "reader": 200},
    "update_partner": {"owner": 200, "reader": 403},
    "create_offering": {"owner": 201, "reader": 403},
    "get_offering": {"owner": 200, "reader": 200},
    "update_offering": {"owner": 200, "reader": 403},
    "delete_offering": {"owner": 204, "reader": 403},
}
# Operations without an object in the path that every role of their policy may call.
OPEN_TO_POLICY = {"list_associations", "list_needs", "list_practices", "list_partners",
                  "list_offerings", "list_scorers", "create_partner", "list_lessons"}


def body_for(world: World, op_id: str, op: dict, side: int, target: dict[str, str]):
    """A valid body, so that a refusal is the policy's and not a validation error."""
    s = SIDES[side]
    store = world.store
    if op_id == "create_association":
        return {"name": f"New association of side {side}", "country": s["country"]}
    if op_id == "update_association":
        return {"members": store.get("associations", target["association_id"])["members"]}
    if op_id in ("create_need", "create_practice"):
        return {"text": "We would like to learn bookkeeping.", "category": "training"}
    if op_id in ("update_need", "update_practice"):
        table = "needs" if op_id == "update_need" else "practices"
        key = "need_id" if op_id == "update_need" else "practice_id"
        return {"category": store.get(table, target[key])["category"]}
    if op_id == "create_partner":
        return {"name": "New partner"}
    if op_id == "update_partner":
        return {"type": store.get("partners", target["partner_id"])["type"]}
    if op_id == "create_offering":
        return {"title": "Bookkeeping course", "category": "training"}
    if op_id == "update_offering":
        return {"capacity": store.get("offerings", target["offering_id"])["capacity"]}
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content.get("schema", {})
    while "$ref" in schema:
        schema = world.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    examples = schema.get("examples") or content.get("examples") or [content.get("example")]
    example = examples[0] if isinstance(examples, list) else next(iter(examples.values()))
    return example.get("value", example) if isinstance(example, dict) and set(example) == {
        "value"} else example


# ---------------------------------------------------------------------- the checks
def check_no_secrets(world: World, role_name: str, response, where: str) -> None:
    for secret, readers in world.secrets.items():
        if role_name not in readers:
            assert secret not in response.text, f"{where}: {role_name} read {secret[:40]!r}"
            assert secret[:40] not in response.text, f"{where}: {role_name} read part of it"


def check_refusal_carries_nothing(world: World, response, where: str) -> None:
    body = response.json()
    assert set(body) == {"detail"}, f"{where}: a refusal carries {sorted(body)}"
    for side_strings in world.private.values():
        for text in side_strings:
            assert text[:30] not in json.dumps(body, ensure_ascii=False), \
                f"{where}: the refusal names {text[:30]!r}"


@pytest.mark.parametrize("method,path,op", OPERATIONS,
                         ids=[op.get("operationId", f"{m} {p}") for m, p, op in OPERATIONS])
def test_authorization_matrix(world, method, path, op):
    op_id = op.get("operationId")
    assert op_id, f"{method} {path} has no operation_id"
    assert op_id in POLICY or op_id in PUBLIC, \
        f"{op_id} ({method} {path}) is in neither api.security.POLICY nor PUBLIC"
    params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
    object_params = [p for p in params if p in PATH_KINDS]
    fresh = method != "GET" and (op_id not in KNOWN or op_id.startswith("delete_"))
    for side in SIDES:
        for role_name, (role, _) in ROLES.items():
            target = {}
            for name in params:
                kind = PATH_KINDS.get(name)
                if kind is None:
                    target[name] = "zz-no-such-thing"
                elif fresh:
                    target[name] = _fresh(world, kind, side)
                elif kind == "match":
                    target[name] = str(world.matches[side])
                else:
                    target[name] = SIDES[side][kind]
            url = path.format(**target)
            body = body_for(world, op_id, op, side, target)
            response = world.client.request(
                method, url, headers=world.headers[role_name],
                **({} if body is None else {"json": body}))
            where = f"{role_name} {method} {url} (side {side})"
            code = response.status_code

            assert code < 500, f"{where}: {code} {response.text[:300]}"
            check_no_secrets(world, role_name, response, where)
            if code in REFUSED:
                check_refusal_carries_nothing(world, response, where)
            if op_id in PUBLIC:
                continue
            if role is None:
                assert code == 401, f"{where}: anonymous got {code}"
                continue
            if role not in POLICY[op_id]:
                assert code in (403, 404), f"{where}: {role.value} is not in the policy: {code}"
                continue
            expected = _expected(op_id, role_name, side, object_params, fresh)
            if expected is not None:
                assert code == expected, f"{where}: {code}, expected {expected}: " \
                                         f"{response.text[:300]}"
            elif object_params:  # an operation of another area, on an object
                kind = PATH_KINDS[object_params[0]]
                if level(role_name, kind, side, fresh) in ("peer", "none", "reader"):
                    assert code in REFUSED, f"{where}: someone else's {kind}, got {code}"


def _expected(op_id: str, role_name: str, side: int, object_params: list[str],
              fresh: bool) -> int | None:
    if op_id in KNOWN:
        kind = PATH_KINDS[object_params[0]]
        return KNOWN[op_id][level(role_name, kind, side, fresh)]
    if op_id in OPEN_TO_POLICY:
        return 201 if op_id.startswith("create_") else 200
    if op_id == "create_association":
        role, role_side = ROLES[role_name]
        return 201 if role is Role.ADMIN or role_side == side else 403
    if op_id == "offering_needs":  # its partner, coordinators (their regions' needs), admins
        role, role_side = ROLES[role_name]
        return 200 if role in (Role.ADMIN, Role.COORDINATOR) or role_side == side else 404
    return None


def test_every_operation_is_in_the_policy_table(world):
    missing = [op.get("operationId") or f"{m} {p}" for m, p, op in OPERATIONS
               if op.get("operationId") not in POLICY and op.get("operationId") not in PUBLIC]

    assert not missing, f"operations without a policy: {missing}"
    assert PUBLIC <= {"health"}, f"public operations: {PUBLIC}"
    ids = [op.get("operationId") for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids)), "operation ids must be unique"


def test_the_matrix_knows_every_profile_operation():
    profile_ops = {op["operationId"] for _, path, op in OPERATIONS
                   if any(f"/{r}" in path for r in ("associations", "needs", "practices",
                                                    "partners", "offerings"))
                   and "/suggestions" not in path and "/data" not in path}
    known = set(KNOWN) | OPEN_TO_POLICY | {"create_association"}
    other_areas = {"delete_association", "delete_partner",  # organisation data rights
                   "offering_needs", "offer_help",  # partners finding needs: test_offering_needs
                   "association_exchanges"}  # mutual peer exchanges: test_offering_needs

    assert profile_ops - other_areas <= known, profile_ops - other_areas - known


# ---------------------------------------------------------------------- lists and the scan
LISTS = ["/api/v1/associations", "/api/v1/needs", "/api/v1/practices", "/api/v1/partners",
         "/api/v1/offerings", "/api/v1/matches"]


@pytest.mark.parametrize("role_name", list(ROLES))
def test_lists_hold_only_what_the_caller_may_read(world, role_name):
    role, side = ROLES[role_name]
    regions = {a["id"]: a["region"] for a in world.store.associations()}
    for url in LISTS:
        response = world.client.get(url, headers=world.headers[role_name],
                                    params={"limit": 100})
        check_no_secrets(world, role_name, response, f"{role_name} GET {url}")
        if role is None:
            assert response.status_code == 401
            continue
        if response.status_code != 200:
            assert response.status_code == 403, f"{role_name} GET {url}"
            continue
        items = response.json()["items"]
        if url.endswith("/needs"):
            owners = {n["association_id"] for n in items}
            if role is Role.ASSOCIATION:
                assert owners == {SIDES[side]["association"]}
            elif role is Role.COORDINATOR:
                assert {regions[o] for o in owners} == {SIDES[side]["region"]}
        if url.endswith("/associations"):
            full = {a["id"] for a in items if a["visibility"] == "full"}
            if role is Role.ASSOCIATION:
                assert full == {SIDES[side]["association"]}
            elif role is Role.COORDINATOR:
                assert {regions[a] for a in full} == {SIDES[side]["region"]}
            assert all(a["contact"] is None for a in items if a["id"] not in full)


@pytest.mark.parametrize("role_name", ["association_B", "coordinator_R2", "admin"])
def test_the_scan_would_see_the_sensitive_text(world, role_name):
    """The texts the matrix scans for are the ones the API serves to those allowed."""
    response = world.client.get(f"/api/v1/needs/{SIDES[2]['need']}",
                                headers=world.headers[role_name])
    secret = next(s for s, readers in world.secrets.items()
                  if readers == {"association_B", "coordinator_R2", "admin"} and "+" not in s)

    assert response.status_code == 200 and secret in response.text


def test_partners_never_read_needs_or_practices_of_associations(world):
    for role_name in ("partner_P", "partner_Q"):
        for path in (f"/api/v1/needs/{SIDES[1]['need']}", f"/api/v1/needs/{SIDES[2]['need']}",
                     f"/api/v1/associations/{SIDES[1]['association']}",
                     f"/api/v1/practices/{SIDES[2]['practice']}"):
            response = world.client.get(path, headers=world.headers[role_name])
            assert response.status_code == 404, (role_name, path)


def test_sensitive_texts_never_reach_the_logs(world):
    """Runs after the matrix and the scans: whatever they made the service log (refusals,
    validation errors, failures), no sensitive need text is in it."""
    assert LOGGED.lines, "the service logged nothing: the collector is not attached"
    world.client.get("/api/v1/needs/n-marker-a/suggestions", params={"limit": "many"},
                     headers=world.headers["admin"])
    world.client.patch("/api/v1/needs/n-marker-a", json={"text": MARKER, "category": "nope"},
                       headers=world.headers["association_A"])
    sensitive = [s for s, readers in world.secrets.items() if "+" not in s
                 and "partner_P" not in readers]
    logged = "\n".join(LOGGED.lines)
    for text in sensitive:
        assert text[:40] not in logged, f"a sensitive need text was logged: {text[:40]!r}"


# ---------------------------------------------------------------------- notifications
@pytest.mark.parametrize("role_name", [r for r in ROLES if r != "anonymous"])
def test_notifications_reach_only_their_audience(world, role_name):
    """Each side's association, partner and region is told something: every caller lists
    exactly its own, and cannot mark another's read."""
    store = world.store
    ids: dict[str, int] = {}
    for side, s in SIDES.items():
        for audience in (f"association:{s['association']}", f"partner:{s['partner']}",
                         f"region:{s['region']}"):
            ids[audience] = store.add_notification(
                audience, "introduced", world.matches[side],
                {"item_title": f"for {audience} only", "side": "need", "owner_name": "x"})
    role, side = ROLES[role_name]
    mine = set() if side is None else {
        Role.ASSOCIATION: {f"association:{SIDES[side]['association']}"},
        Role.PARTNER: {f"partner:{SIDES[side]['partner']}"},
        Role.COORDINATOR: {f"region:{SIDES[side]['region']}"}}[role]

    response = world.client.get("/api/v1/notifications", headers=world.headers[role_name],
                                params={"limit": 200})

    assert response.status_code == 200
    texts = " ".join(n["text"] for n in response.json()["items"])
    for audience, notification_id in ids.items():
        assert (f"for {audience} only" in texts) == (audience in mine), audience
        if audience not in mine:
            refused = world.client.post(f"/api/v1/notifications/{notification_id}/read",
                                        headers=world.headers[role_name])
            assert refused.status_code == 404
