"""The HTTP API: the suggestions contract, errors, health, docs, plugins, and a real server.

Runs the real embedding model over the demo data (built once per session in conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from postgres import demo_target
from servers import serve
from support import api_client, make_token

from api.app import create_app
from matcher import __version__
from matcher.plugins import collect_scorers, get_plugin_manager
from matcher.principals import Role
from matcher.ranking.calibration import label_of
from matcher.settings import load_settings

DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
NEED = "demo-n-001"
ASSOCIATION = "demo-a-01"  # posted demo-n-001

OFFERING_PARTNER = {o["id"]: p["id"] for p in DEMO["partners"] for o in p.get("offerings", [])}
PRACTICE_ASSOCIATION = {pr["id"]: a["id"] for a in DEMO["associations"]
                        for pr in a.get("practices", [])}
NEED_ASSOCIATION = {n["id"]: a["id"] for a in DEMO["associations"] for n in a.get("needs", [])}

PARTNER_FIELDS = {"offering_id", "partner_id", "title", "partner_name", "score", "contributions",
                  "reasons", "rules_passed"}
PEER_FIELDS = {"practice_id", "association_id", "title", "association_name", "score",
               "contributions", "reasons"}


def suggestions_url(need_id: str = NEED) -> str:
    return f"/api/v1/needs/{need_id}/suggestions"


def association_url(association_id: str = ASSOCIATION) -> str:
    return f"/api/v1/associations/{association_id}/suggestions"


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_db(request, demo_db, tmp_path_factory) -> str:
    """This module's own database with the demo data, on each backend (the apps open it
    read-write)."""
    return demo_target(request, demo_db, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def auth(api_db) -> dict[str, str]:
    """Headers carrying an admin token (every endpoint but /health and the docs needs one)."""
    return make_token(api_db, Role.ADMIN, label="api tests")


@pytest.fixture(scope="module")
def client(api_db, auth):
    with api_client(api_db, headers=auth) as test_client:
        yield test_client


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def live_server(api_db):
    """A real uvicorn server on a free loopback port, in a thread; yields its base URL."""
    with serve(api_db) as url:
        yield url


# ---------------------------------------------------------------------- helpers
def resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def schema_problems(value, schema: dict, spec: dict, where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (the subset of JSON Schema FastAPI emits)."""
    schema = resolve(schema, spec)
    if "discriminator" in schema:
        disc = schema["discriminator"]
        target = disc["mapping"].get(value.get(disc["propertyName"]))
        if target is None:
            return [f"{where}: no variant for {disc['propertyName']}={value!r:.60}"]
        return schema_problems(value, {"$ref": target}, spec, where)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            results = [schema_problems(value, s, spec, where) for s in schema[key]]
            matching = sum(not r for r in results)
            if key == "oneOf" and matching != 1 or matching == 0:
                return [f"{where}: matches {matching} of {key}"] + [p for r in results for p in r]
            return []
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} is not {schema['const']!r}"]
    kind = schema.get("type")
    checks = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
              "integer": int, "number": (int, float)}
    if kind and not isinstance(value, checks[kind]) or kind in ("integer", "number") and \
            isinstance(value, bool):
        return [f"{where}: {value!r:.60} is not {kind}"]
    problems = []
    if kind == "object":
        props = schema.get("properties", {})
        problems += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", not props)  # stricter: our models are closed
        for k, v in value.items():
            if k in props:
                problems += schema_problems(v, props[k], spec, f"{where}.{k}")
            elif isinstance(extra, dict):
                problems += schema_problems(v, extra, spec, f"{where}.{k}")
            elif extra is not True:
                problems.append(f"{where}: {k} is not in the schema")
    if kind == "array":
        for i, item in enumerate(value):
            problems += schema_problems(item, schema.get("items", {}), spec, f"{where}[{i}]")
    return problems


def response_schema(spec: dict, path: str, status: str = "200") -> dict:
    return spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]


# ---------------------------------------------------------------------- the suggestions contract
def test_partner_suggestions_carry_the_contract_fields(client):
    response = client.get(suggestions_url(), params={"kind": "partner", "limit": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["need_id"] == NEED and body["kind"] == "partner"
    assert body["association_id"] == ASSOCIATION
    assert body["category"] and 0 < body["category_confidence"] <= 1
    assert body["language"] == "en" and body["failed_scorers"] == {}
    assert 1 <= len(body["suggestions"]) <= 5
    for s in body["suggestions"]:
        assert PARTNER_FIELDS <= s.keys()
        assert OFFERING_PARTNER[s["offering_id"]] == s["partner_id"]
        assert s["title"] and s["partner_name"]
        assert s["contributions"] and all(isinstance(v, float) for v in s["contributions"].values())
        assert "semantic" in s["contributions"]
        assert s["reasons"] and all(isinstance(r, str) and r for r in s["reasons"])
    scores = [s["score"] for s in body["suggestions"]]
    assert scores == sorted(scores, reverse=True)


def test_peer_suggestions_carry_the_contract_fields(client):
    response = client.get(suggestions_url(), params={"kind": "peer", "limit": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["need_id"] == NEED and body["kind"] == "peer"
    assert 1 <= len(body["suggestions"]) <= 5
    for s in body["suggestions"]:
        assert PEER_FIELDS <= s.keys()
        assert "offering_id" not in s and "partner_id" not in s
        assert PRACTICE_ASSOCIATION[s["practice_id"]] == s["association_id"]
        assert s["title"] and s["association_name"]
        assert s["contributions"] and s["reasons"]


def test_peer_suggestions_never_contain_the_needs_own_association(client):
    seen = 0
    for need_id, own in NEED_ASSOCIATION.items():
        response = client.get(suggestions_url(need_id), params={"kind": "peer", "limit": 100})
        assert response.status_code == 200, response.text
        owners = {s["association_id"] for s in response.json()["suggestions"]}
        assert own not in owners, f"{need_id} was offered its own association's practice"
        seen += len(owners)
    assert seen > 0


def test_limit_caps_the_number_of_suggestions(client):
    three = client.get(suggestions_url(), params={"limit": 3}).json()["suggestions"]
    default = client.get(suggestions_url()).json()["suggestions"]

    assert len(three) == 3
    assert len(default) == 10
    assert [s["offering_id"] for s in three] == [s["offering_id"] for s in default[:3]]


def test_weight_override_removes_a_scorer_from_contributions(client):
    default = client.get(suggestions_url()).json()["suggestions"]
    without = client.get(suggestions_url(), params={"weight": "lexical:0"}).json()["suggestions"]

    assert all("lexical" in s["contributions"] for s in default)
    assert without and all("lexical" not in s["contributions"] for s in without)
    assert all("semantic" in s["contributions"] for s in without)


def test_weight_override_scales_a_contribution(client):
    base = client.get(suggestions_url(), params={"weight": "category:1"}).json()["suggestions"]
    doubled = client.get(suggestions_url(),
                         params={"weight": ["category:2", "lexical:0.2"]}).json()["suggestions"]

    base_by_id = {s["offering_id"]: s["contributions"]["category"] for s in base}
    pairs = [(base_by_id[s["offering_id"]], s["contributions"]["category"])
             for s in doubled if s["offering_id"] in base_by_id]
    assert pairs and any(b != 0 for b, _ in pairs)
    assert all(d == pytest.approx(2 * b, abs=2e-4) for b, d in pairs)


@pytest.mark.parametrize("weight", ["lexical", "lexical:", ":1", "lexical:high", "lexical:nan",
                                    "no_such_scorer:1"])
def test_malformed_weight_is_422_with_a_message(client, weight):
    response = client.get(suggestions_url(), params={"weight": weight})

    assert response.status_code == 422
    assert "weight" in json.dumps(response.json()["detail"])  # the schema's, or in words


def test_weight_named_twice_takes_the_last_value(client):
    twice = client.get(suggestions_url(), params={"weight": ["lexical:1", "lexical:0"]})

    assert twice.status_code == 200
    assert all("lexical" not in s["contributions"] for s in twice.json()["suggestions"])


def test_lang_changes_the_wording_of_reasons(client):
    english = client.get(suggestions_url(), params={"kind": "peer", "lang": "en"}).json()
    french = client.get(suggestions_url(), params={"kind": "peer", "lang": "fr"}).json()

    ids = [s["practice_id"] for s in english["suggestions"]]
    assert ids == [s["practice_id"] for s in french["suggestions"]]
    assert [s["reasons"] for s in english["suggestions"]] != \
        [s["reasons"] for s in french["suggestions"]]


# ---------------------------------------------------------------------- errors
def test_unknown_need_is_404_with_a_message(client):
    response = client.get(suggestions_url("demo-n-999"))

    assert response.status_code == 404
    assert "demo-n-999" in response.json()["detail"]


def test_a_need_the_caller_may_not_see_is_404_before_its_weights_are_read(api_db, client):
    """Another association's need reads as missing, with a weight naming no scorer too (its
    422 would come only once the caller may ask)."""
    other = make_token(api_db, Role.ASSOCIATION, association_id="demo-a-02")
    weight = {"weight": "no_such_scorer:1"}

    hidden = client.get(suggestions_url(), params=weight, headers=other)
    hidden_across = client.get(association_url(), params=weight, headers=other)
    own = client.get(suggestions_url(), params=weight)
    own_across = client.get(association_url(), params=weight)

    assert (hidden.status_code, hidden_across.status_code) == (404, 404)
    assert (own.status_code, own_across.status_code) == (422, 422)
    assert "weight" in json.dumps(own.json()["detail"])


def test_unknown_association_is_404_with_a_message(client):
    response = client.get(association_url("demo-a-99"))

    assert response.status_code == 404
    assert "demo-a-99" in response.json()["detail"]


def test_bad_kind_is_422(client):
    response = client.get(suggestions_url(), params={"kind": "investor"})

    assert response.status_code == 422
    assert any(e["loc"] == ["query", "kind"] for e in response.json()["detail"])


@pytest.mark.parametrize("limit", ["0", "1000", "-1", "ten"])
def test_limit_out_of_range_is_422(client, limit):
    response = client.get(suggestions_url(), params={"limit": limit})

    assert response.status_code == 422
    assert any(e["loc"] == ["query", "limit"] for e in response.json()["detail"])


def test_unsupported_lang_is_422(client):
    response = client.get(suggestions_url(), params={"lang": "de"})

    assert response.status_code == 422


# ---------------------------------------------------------------------- association level
@pytest.mark.parametrize("kind,item,owner", [("partner", "offering_id", "partner_id"),
                                             ("peer", "practice_id", "association_id")])
def test_association_suggestions_list_each_item_once(client, kind, item, owner):
    response = client.get(association_url(), params={"kind": kind, "limit": 100})

    assert response.status_code == 200
    body = response.json()
    assert body["association_id"] == ASSOCIATION and body["kind"] == kind
    ids = [s[item] for s in body["suggestions"]]
    assert len(ids) > 1
    assert len(ids) == len(set(ids))
    own_needs = {n for n, a in NEED_ASSOCIATION.items() if a == ASSOCIATION}
    assert {s["need_id"] for s in body["suggestions"]} <= own_needs
    if kind == "peer":
        assert ASSOCIATION not in {s[owner] for s in body["suggestions"]}
    scores = [s["score"] for s in body["suggestions"]]
    if kind == "peer":
        assert scores == sorted(scores, reverse=True)
    else:  # best first within the per-partner-capped top 10, and within the rest
        head, tail = scores[:10], scores[10:]
        assert head == sorted(head, reverse=True) and tail == sorted(tail, reverse=True)
        owners = [s[owner] for s in body["suggestions"][:10]]
        assert max(owners.count(o) for o in owners) <= 2


def test_association_suggestions_keep_each_items_best_need(client):
    body = client.get(association_url(), params={"limit": 100}).json()
    best: dict[str, float] = {}
    for need_id in {n for n, a in NEED_ASSOCIATION.items() if a == ASSOCIATION}:
        for s in client.get(suggestions_url(need_id), params={"limit": 100}).json()["suggestions"]:
            best[s["offering_id"]] = max(best.get(s["offering_id"], float("-inf")), s["score"])

    assert {s["offering_id"]: s["score"] for s in body["suggestions"]} == best


# ---------------------------------------------------------------------- health, plugins, docs
def test_health_reports_version_and_record_counts(client):
    deadline = time.monotonic() + 300  # the corpus is built at start: a guard, not a timing
    while (response := client.get("/health")).json()["status"] == "starting" \
            and time.monotonic() < deadline:
        time.sleep(0.05)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"] == __version__
    records = body["records"]
    assert records["partners"] == len(DEMO["partners"])
    assert records["associations"] == len(DEMO["associations"])
    assert records["needs"] == len(NEED_ASSOCIATION)
    assert records["offerings"] == len(OFFERING_PARTNER)
    assert records["practices"] == len(PRACTICE_ASSOCIATION)
    assert records["vectors"] > 0


def test_the_corpus_is_built_at_start_not_by_the_first_request(api_db):
    app = create_app(load_settings(db=api_db))
    with TestClient(app) as fresh:
        assert fresh.get("/health").status_code == 200
        deadline = time.monotonic() + 300  # a guard against a hang, not a timing
        while app.state.engines.warming and time.monotonic() < deadline:
            time.sleep(0.05)
        engine = app.state.engines.get()
        assert engine.corpus_loaded
        assert fresh.get("/health").json()["status"] == "ok"


def test_plugins_lists_scorers_with_source_kinds_and_weights(client):
    response = client.get("/api/v1/plugins")

    assert response.status_code == 200
    scorers = {s["name"]: s for s in response.json()["scorers"]}
    assert {"semantic", "lexical", "category", "geography"} <= scorers.keys()
    semantic = scorers["semantic"]
    assert semantic["source"] == "builtin" and semantic["description"]
    assert semantic["kinds"] == ["partner", "peer"]
    own = {name: r.scorer for name, r in collect_scorers(get_plugin_manager()).items()}
    assert semantic["weights"] == {"partner": own["semantic"].default_weight("partner"),
                                   "peer": own["semantic"].default_weight("peer")}
    assert scorers["lexical"]["weights"] == {"partner": 0.5, "peer": 0.1}  # its own defaults
    assert scorers["geography"]["kinds"] == ["peer"]
    assert set(scorers["geography"]["weights"]) == {"peer"}


def test_docs_and_openapi_are_served(client):
    docs = client.get("/docs")
    spec = client.get("/openapi.json")

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert spec.status_code == 200
    body = spec.json()
    assert body["info"]["title"] == "delve-matcher" and body["info"]["version"] == __version__
    assert {suggestions_url("{need_id}"), association_url("{association_id}"), "/health",
            "/api/v1/plugins"} <= body["paths"].keys()
    examples = body["components"]["schemas"]["PartnerSuggestion"]["examples"]
    assert examples and PARTNER_FIELDS <= examples[0].keys()


def test_openapi_schemas_validate_the_actual_responses(client):
    spec = client.get("/openapi.json").json()
    cases = [
        (suggestions_url(), "/api/v1/needs/{need_id}/suggestions", {"kind": "partner"}, "200"),
        (suggestions_url(), "/api/v1/needs/{need_id}/suggestions", {"kind": "peer"}, "200"),
        (association_url(), "/api/v1/associations/{association_id}/suggestions",
         {"kind": "partner"}, "200"),
        (association_url(), "/api/v1/associations/{association_id}/suggestions",
         {"kind": "peer"}, "200"),
        (suggestions_url("nope"), "/api/v1/needs/{need_id}/suggestions", {}, "404"),
        (suggestions_url(), "/api/v1/needs/{need_id}/suggestions", {"limit": 0}, "422"),
        (suggestions_url(), "/api/v1/needs/{need_id}/suggestions", {"weight": "x"}, "422"),
        ("/api/v1/plugins", "/api/v1/plugins", {}, "200"),
        ("/health", "/health", {}, "200"),
    ]
    for url, path, params, status in cases:
        response = client.get(url, params=params)
        assert str(response.status_code) == status, (url, params, response.text)
        schema = response_schema(spec, path, status)
        assert schema_problems(response.json(), schema, spec) == [], (url, params)
    # the checker itself notices a response that breaks the contract
    peer = client.get(suggestions_url(), params={"kind": "peer"}).json()
    peer["suggestions"][0].pop("practice_id")
    schema = response_schema(spec, "/api/v1/needs/{need_id}/suggestions")
    assert schema_problems(peer, schema, spec)


# ---------------------------------------------------------------------- the app factory
def test_create_app_opens_no_database_until_started(tmp_path):
    db = tmp_path / "fresh.db"
    app = create_app(load_settings(db=db))

    assert not db.exists()
    with TestClient(app) as fresh:
        assert db.exists()
        body = fresh.get("/health").json()
        assert body["records"]["needs"] == 0
    assert not app.state.engines.started


# ---------------------------------------------------------------------- a real server
def test_live_server_answers_concurrent_requests(live_server, auth):
    urls = [suggestions_url(f"demo-n-00{i}") for i in range(1, 7)] + ["/health"] * 4
    with httpx.Client(base_url=live_server, timeout=60, headers=auth) as http, \
            ThreadPoolExecutor(max_workers=len(urls)) as pool:
        responses = list(pool.map(http.get, urls))

    assert [r.status_code for r in responses] == [200] * len(urls)
    assert [r.json()["need_id"] for r in responses[:6]] == [f"demo-n-00{i}" for i in range(1, 7)]


@pytest.mark.parametrize("slots", [1, 3])
def test_suggestions_are_worked_out_in_turn_at_most_the_slots_at_once(api_db, auth, slots):
    """MATCHER_SUGGEST_SLOTS bounds the suggestions one process works out at once (the
    others wait their turn, not contending for the GIL); every request is still answered,
    and other endpoints do not queue behind them."""
    app = create_app(load_settings(db=api_db, suggest_slots=slots))
    with TestClient(app, headers=auth) as client:
        engine = app.state.engines.get()
        real, lock = engine.suggest, threading.Lock()
        running, most = [0], [0]

        def counted(*args, **kwargs):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                time.sleep(0.05)  # long enough for the others to arrive meanwhile
                return real(*args, **kwargs)
            finally:
                with lock:
                    running[0] -= 1

        engine.suggest = counted
        urls = [suggestions_url(f"demo-n-00{i}") for i in range(1, 7)] * 2
        with ThreadPoolExecutor(max_workers=len(urls) + 1) as pool:
            answers = pool.map(client.get, urls)
            health = pool.submit(client.get, "/api/v1/needs/demo-n-001").result(timeout=30)
            statuses = [r.status_code for r in answers]

    assert statuses == [200] * len(urls)
    assert health.status_code == 200
    assert most[0] == slots


def test_live_server_serves_the_suggestions_contract(live_server, auth):
    with httpx.Client(base_url=live_server, timeout=60, headers=auth) as http:
        partner = http.get(suggestions_url(), params={"kind": "partner", "limit": 3})
        peer = http.get(suggestions_url(), params={"kind": "peer", "limit": 3})
        missing = http.get(suggestions_url("demo-n-999"))
        bad = http.get(suggestions_url(), params={"kind": "x", "limit": 1000})
        health = http.get("/health")
        docs = http.get("/docs")
        spec = http.get("/openapi.json")

    assert partner.status_code == 200 and partner.headers["content-type"] == "application/json"
    assert len(partner.json()["suggestions"]) == 3
    assert all(PARTNER_FIELDS <= s.keys() for s in partner.json()["suggestions"])
    assert peer.status_code == 200
    assert all(PEER_FIELDS <= s.keys() for s in peer.json()["suggestions"])
    assert ASSOCIATION not in {s["association_id"] for s in peer.json()["suggestions"]}
    assert missing.status_code == 404 and "demo-n-999" in missing.json()["detail"]
    assert bad.status_code == 422
    assert {e["loc"][-1] for e in bad.json()["detail"]} == {"kind", "limit"}
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "delve-matcher"


def test_matcher_serve_command_serves_health_and_docs(api_db, tmp_path):
    db = api_db
    if not api_db.startswith("postgresql:"):
        db = str(tmp_path / "serve.db")
        shutil.copyfile(api_db, db)
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the server binds it again (a small race with other processes)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_until(up, 60, "matcher serve to answer /health")
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
        health = httpx.get(f"{base}/health", timeout=10)
        docs = httpx.get(f"{base}/docs", timeout=10)
        assert health.json()["records"]["needs"] == len(NEED_ASSOCIATION)
        assert health.json()["version"] == __version__
        assert docs.status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stderr.close()


@pytest.mark.parametrize("kind", ["partner", "peer"])
def test_suggestions_carry_a_calibrated_strength_and_say_when_nothing_fits_well(client, kind):
    body = client.get(suggestions_url(), params={"kind": kind, "limit": 10}).json()
    across = client.get(f"/api/v1/associations/{ASSOCIATION}/suggestions",
                        params={"kind": kind}).json()

    for s in body["suggestions"] + across["suggestions"]:
        assert 0.0 <= s["strength"] <= 1.0
        assert s["strength_label"] == label_of(s["strength"])
    good = [s for s in body["suggestions"] if s["strength_label"] in ("strong", "good")]
    assert body["weak"] is (not good) and isinstance(across["weak"], bool)
