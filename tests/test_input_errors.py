"""Bad input is a 4xx naming the field and the rule, never a 500, never echoed back, never
logged: non-finite JSON numbers (NaN, Infinity, -Infinity) are a 422 on every operation that
takes a body, 422s leave out what was typed, the access log shows ``q=…``, and fusion weights
are bounded so that every score is finite. Against a real server where HTTP matters."""

from __future__ import annotations

import http.client
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from pydantic import ValidationError
from servers import serve_app
from support import copy_database, make_token
from typer.testing import CliRunner

from api.app import create_app
from matcher.cli import app as cli_app
from matcher.errors import InvalidInput
from matcher.exchange import parse_document
from matcher.principals import Role
from matcher.ranking.fusion import fuse, parse_weight_overrides
from matcher.ranking.scoring import Scorer
from matcher.settings import Settings, load_settings

SENTINEL = "zq-typed-by-a-user-7731"
# As written in a body: Python's json reads the three tokens, and 1e400 as infinity.
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400"]
DEMO = json.loads((Path(__file__).parent.parent / "data" / "demo.json").read_text("utf-8"))
PATH_IDS = {
    "match_id": "1",
    "lesson_id": "1",
    "round_id": "1",
    "association_id": DEMO["associations"][0]["id"],
    "need_id": DEMO["associations"][0]["needs"][0]["id"],
    "practice_id": next(pr["id"] for a in DEMO["associations"] for pr in a.get("practices", [])),
    "partner_id": DEMO["partners"][0]["id"],
    "offering_id": DEMO["partners"][0]["offerings"][0]["id"],
}
NEED = PATH_IDS["need_id"]


class Captured(logging.Handler):
    """Every record, formatted with its traceback, as the server would have logged it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory) -> Path:
    return copy_database(demo_db, tmp_path_factory.mktemp("input-errors"))


@pytest.fixture(scope="module")
def admin(db) -> dict[str, str]:
    return make_token(db, Role.ADMIN, label="input error tests")


@pytest.fixture(scope="module")
def app(db):
    return create_app(load_settings(db=db))


@pytest.fixture(scope="module")
def server(app) -> Iterator[tuple[str, Captured]]:
    """A real server with uvicorn's access log on; yields its URL and what it logged."""
    with serve_app(app, log_level="info") as url:
        log = Captured()
        loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.access")]
        for logger in loggers:
            logger.addHandler(log)
        try:
            yield url, log
        finally:
            for logger in loggers:
                logger.removeHandler(log)


@pytest.fixture
def log(server) -> Captured:
    server[1].records.clear()
    return server[1]


@pytest.fixture
def api(server, admin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], headers=admin, timeout=60) as client:
        yield client


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(schema: dict, spec: dict, number: float, depth: int = 0):
    """A body shaped like ``schema``: ``number`` for every number, the sentinel for every
    free string."""
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, spec).get("type") != "null"]
            return sample(options[0], spec, number, depth)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" and depth < 6:
        return {k: sample(v, spec, number, depth + 1)
                for k, v in schema.get("properties", {}).items()}
    if kind == "array" and depth < 6:
        return [sample(schema.get("items", {}), spec, number, depth + 1)]
    if kind == "string":
        return SENTINEL
    if kind == "boolean":
        return True
    return number


def _with_number(body, number: float):
    """``body`` with ``number`` in its first free string (else its first boolean)."""
    def leaves(node, path=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from leaves(value, (*path, index))
        else:
            yield path, node
    found = list(leaves(body))
    path = next((p for p, v in found if v == SENTINEL), None) or next(
        p for p, v in found if isinstance(v, bool))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = number
    return body


def body_operations(app, token: str) -> list[tuple[str, str, str]]:
    """Every operation of the OpenAPI document that takes a JSON body: method, path (with
    demo ids), and a body with ``token`` in every number field (or, when there is none, in a
    string field), and the sentinel in every other string field."""
    number = math.nan
    spec = app.openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = sample(content["application/json"]["schema"], spec, number)
                if "NaN" not in json.dumps(body):  # no number field: in a string's place, or
                    body = _with_number(body, number)  # (none either) a boolean's
                text = json.dumps(body).replace("NaN", token)
                found.append((method.upper(), path.format(**PATH_IDS), text))
    return found


# ---------------------------------------------------------------------- non-finite numbers
@pytest.mark.parametrize("token", NON_FINITE)
def test_non_finite_numbers_are_422_on_every_body_operation(app, server, admin, log, token):
    operations = body_operations(app, token)
    assert len(operations) >= 20
    assert sum(SENTINEL in body for _, _, body in operations) >= 15
    url = urlsplit(server[0])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {**admin, "Content-Type": "application/json"}
    try:
        for method, path, body in operations:
            assert token in body
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode()
            where = f"{method} {path}: {response.status} {data[:300]}"
            assert response.status == 422, where
            detail = json.loads(data)["detail"]
            assert "finite" in json.dumps(detail), where
            assert SENTINEL not in data, where
            assert not response.will_close, where  # keep-alive survives
            sock = conn.sock
            conn.request("GET", "/health")
            assert conn.getresponse().read() and conn.sock is sock, where
    finally:
        conn.close()
    assert SENTINEL not in log.text
    assert not [r for r in log.records if r.levelno >= logging.ERROR], log.text


# ---------------------------------------------------------------------- nothing echoed
LONG = (SENTINEL + " ") * 800  # longer than any text field allows


@pytest.mark.parametrize("method, path, body, field", [
    ("POST", "/api/v1/associations/{association_id}/needs", {"text": LONG}, "text"),
    ("PATCH", "/api/v1/needs/{need_id}", {"text": LONG}, "text"),
    ("PATCH", "/api/v1/associations/{association_id}", {"description": LONG}, "description"),
    ("POST", "/api/v1/partners/{partner_id}/offerings",
     {"title": LONG, "category": "ohs"}, "title"),
    ("PATCH", "/api/v1/practices/{practice_id}", {"text": LONG}, "text"),
    ("POST", "/api/v1/matches/{match_id}/approve", {"note": LONG}, "note"),
    ("POST", "/api/v1/matches/{match_id}/reject", {"reason": "duplicate", "note": LONG}, "note"),
    ("POST", "/api/v1/matches/bulk", {"action": "approve", "ids": [1], "note": LONG}, "note"),
    ("PATCH", "/api/v1/associations/{association_id}", {"name": 12, "notes": SENTINEL}, "notes"),
])
def test_a_422_names_the_field_and_rule_but_never_echoes_the_text(api, log, method, path,
                                                                  body, field):
    response = api.request(method, path.format(**PATH_IDS), json=body)

    assert response.status_code == 422, response.text[:300]
    assert SENTINEL not in response.text
    issues = response.json()["detail"]
    assert any(field in issue["loc"] and issue["msg"] for issue in issues), issues
    assert all("input" not in issue for issue in issues), issues
    assert SENTINEL not in log.text


@pytest.mark.parametrize("record, field", [
    ({"id": "a-x", "name": "X", "country": "GH", "description": LONG}, "description"),
    ({"id": "a-x", "name": "X", "country": "GH", "needs": [{"id": "n-x", "text": LONG}]}, "text"),
    ({"id": "a-x", "name": "X", "country": "GH", "contact": {"name": LONG}}, "contact.name"),
    ({"id": "a-x", "name": LONG[:400], "country": "GH"}, "name"),
])
def test_an_import_error_names_record_and_field_without_the_text(api, log, record, field):
    response = api.post("/api/v1/import", json={"partners": [], "associations": [record]})

    assert response.status_code == 422, response.text[:300]
    detail = response.json()["detail"]
    assert SENTINEL not in response.text and f"field {field!r}" in detail, detail
    assert SENTINEL not in log.text


@pytest.mark.parametrize("token", NON_FINITE)
def test_an_imported_non_finite_number_names_record_and_field(ref, token):
    document = ('{"associations": [{"id": "a-x", "name": "X", "country": "GH", '
                f'"members": {token}}}]}}')  # not JSON, but Python's json reads it
    with pytest.raises(InvalidInput) as caught:
        parse_document(document.encode(), ref)
    assert (caught.value.record, caught.value.field) == ("a-x", "members")
    assert "finite" in str(caught.value)


def test_cli_import_of_a_non_finite_number_fails_with_one_line(tmp_path):
    document = tmp_path / "nan.json"
    document.write_text('{"associations": [{"id": "a-x", "name": "X", "country": "GH", '
                        '"members": NaN}]}', encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["import", str(document), "--db",
                                          str(tmp_path / "new.db"), "--no-embed"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'a-x'" in lines[0] and "'members'" in lines[0], result.stderr
    assert "finite" in lines[0]


# ---------------------------------------------------------------------- nothing logged
def test_search_terms_never_reach_the_access_log(api, log):
    assert api.get("/api/v1/needs", params={"q": SENTINEL, "limit": 5}).status_code == 200
    assert api.get("/api/v1/offerings", params={"q": SENTINEL}).status_code == 200
    api.get(f"/api/v1/needs/{NEED}/suggestions", params={"weight": f"{SENTINEL}:1"})
    api.get("/api/v1/partners", params={SENTINEL: "1"})

    assert "/api/v1/needs?q=…&limit=5" in log.text  # the access log is on, values hidden
    assert SENTINEL not in log.text


# ---------------------------------------------------------------------- weights and scores
EXTREME = ["semantic:1e308", "lexical:-1e308"]


def test_extreme_weights_are_422(api):
    response = api.get(f"/api/v1/needs/{NEED}/suggestions", params={"weight": EXTREME})

    assert response.status_code == 422, response.text[:300]
    detail = response.json()["detail"]  # the schema's pattern (at most 100), or the engine's rule
    assert "100" in detail if isinstance(detail, str) else detail[0]["loc"][-2:] == ["weight", 0]


@pytest.mark.parametrize("item", ["semantic:1e308", "semantic:-101", "semantic:1e400",
                                  "semantic:inf", "semantic:-Infinity", "semantic:nan"])
def test_a_weight_must_be_finite_and_at_most_100(item):
    with pytest.raises(InvalidInput) as caught:
        parse_weight_overrides([item], ["semantic"])
    assert caught.value.field == "weight"


def test_weights_of_plus_or_minus_100_are_accepted():
    assert parse_weight_overrides(["semantic:100", "lexical:-100"], ["semantic", "lexical"]) == {
        "semantic": 100.0, "lexical": -100.0}


def test_configured_weights_are_bounded_too():
    with pytest.raises(ValidationError):
        Settings(weights={"partner": {"semantic": 1e308}})


def test_cli_refuses_extreme_weights_with_one_line(db):
    result = CliRunner().invoke(cli_app, ["suggest", NEED, "--db", str(db),
                                          "--weight", EXTREME[0], "--weight", EXTREME[1]])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "100" in lines[0], result.stderr


@pytest.mark.parametrize("how", ["none", "zscore", "minmax"])
def test_a_fused_score_is_always_finite(how):
    raw = {"a": np.array([1e308, -1e308, 0.0, 1e300]), "b": np.array([-1e308, 1e308, 5.0, 1.0])}
    scorers = {name: Scorer() for name in raw}
    for scorer in scorers.values():
        scorer.normalise = how

    total, contributions = fuse(raw, scorers, {"a": 100.0, "b": -100.0}, 4)

    assert np.all(np.isfinite(total))
    assert all(np.all(np.isfinite(part)) for part in contributions.values())
