"""The API says what it does: what the OpenAPI document promises is what the server does.

Regions follow countries, list pages hold at most 100 items, dates are ISO dates, wrong
methods are 405 with the right ``Allow``, the docs load only the app's own files, every
response carries a Content-Security-Policy, and a 403 says in words what was refused.
Schemathesis checks the rest (tests/test_schemathesis.py). A module copy of the demo database
and TestClient.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from matcher.principals import Role
from matcher.reference import default_data_dir
from matcher.settings import load_settings
from matcher.store import Store

V1 = "/api/v1"
A = "demo-a-01"  # Ghana, africa_anglophone
LISTS = ("associations", "needs", "practices", "partners", "offerings", "matches")
COUNTRIES = json.loads((default_data_dir() / "countries.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def contract_db(demo_db, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("contract") / "demo.db"
    shutil.copyfile(demo_db, target)
    return target


@pytest.fixture(scope="module")
def http(contract_db):
    store = Store(contract_db)
    tokens = {
        "admin": store.create_token(Role.ADMIN, label="admin")[1],
        "partner": store.create_token(Role.PARTNER, partner_id="demo-p-01", label="p")[1],
    }
    store.close()
    with TestClient(create_app(load_settings(db=contract_db))) as client:
        client.headers_for = {name: {"Authorization": f"Bearer {token}"}
                              for name, token in tokens.items()}
        yield client


@pytest.fixture(scope="module")
def spec(http) -> dict:
    return http.get("/openapi.json").json()


def admin(http) -> dict:
    return http.headers_for["admin"]


# ---------------------------------------------------------------------- regions follow countries
def test_changing_an_associations_country_moves_it_to_that_countrys_region(http):
    moved = http.patch(f"{V1}/associations/{A}", json={"country": "BF"}, headers=admin(http))

    assert moved.status_code == 200, moved.text
    assert moved.json()["country"] == "BF" and moved.json()["region"] == "africa_francophone"
    stored = http.get(f"{V1}/associations/{A}", headers=admin(http)).json()
    assert stored["region"] == "africa_francophone"
    back = http.patch(f"{V1}/associations/{A}", json={"country": "GH"}, headers=admin(http))
    assert back.json()["region"] == "africa_anglophone"


@pytest.mark.parametrize("method, path, body", [
    ("patch", f"{V1}/associations/{A}", {"country": "GH", "region": "latin_america_caribbean"}),
    ("patch", f"{V1}/associations/{A}", {"region": "africa_francophone"}),
    ("post", f"{V1}/associations", {"name": "X", "country": "GH", "region": "europe"}),
])
def test_a_region_is_derived_from_the_country_never_sent(http, method, path, body):
    response = getattr(http, method)(path, json=body, headers=admin(http))

    assert response.status_code == 422
    assert "region" in json.dumps(response.json()["detail"])
    assert http.get(f"{V1}/associations/{A}", headers=admin(http)).json()["region"] == (
        "africa_anglophone")


def test_country_codes_are_enumerated_from_the_reference_data(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["AssociationCreate"]["properties"]["country"]["enum"] == sorted(COUNTRIES)
    assert "region" not in schemas["AssociationCreate"]["properties"]
    assert "region" not in schemas["AssociationUpdate"]["properties"]
    countries = schemas["OfferingCreate"]["properties"]["countries"]["items"]
    assert countries["enum"] == sorted(COUNTRIES)


# ---------------------------------------------------------------------- list pages
@pytest.mark.parametrize("resource", LISTS)
def test_list_pages_hold_at_most_100_items(http, spec, resource):
    full = http.get(f"{V1}/{resource}", params={"limit": 100}, headers=admin(http))
    over = http.get(f"{V1}/{resource}", params={"limit": 101}, headers=admin(http))

    assert full.status_code == 200, full.text
    assert over.status_code == 422
    limit = next(p for p in spec["paths"][f"{V1}/{resource}"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100


# ---------------------------------------------------------------------- dates, notes
@pytest.mark.parametrize("valid_until", [0, 1735689600, "1735689600", "31/12/2027", True])
def test_valid_until_is_an_iso_date_only(http, valid_until):
    response = http.patch(f"{V1}/offerings/demo-o-001", json={"valid_until": valid_until},
                          headers=admin(http))

    assert response.status_code == 422, response.text
    stored = http.get(f"{V1}/offerings/demo-o-001", headers=admin(http)).json()
    assert stored["valid_until"] != "1970-01-01"


def test_valid_until_takes_an_iso_date(http):
    response = http.patch(f"{V1}/offerings/demo-o-001", json={"valid_until": "2031-06-30"},
                          headers=admin(http))

    assert response.status_code == 200 and response.json()["valid_until"] == "2031-06-30"


def test_closing_a_match_needs_a_note_and_the_schema_says_so(http, spec):
    body = spec["paths"][f"{V1}/matches/{{match_id}}/close"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]

    assert body["required"] is True and schema["required"] == ["note"]
    assert http.post(f"{V1}/matches/1/close", headers=admin(http)).status_code == 422


def test_a_bulk_rejection_without_a_reason_breaks_the_schema(spec):
    body = spec["paths"][f"{V1}/matches/bulk"]["post"]["requestBody"]
    text = json.dumps(body)

    assert "BulkReject" in text and "BulkApprove" in text
    assert spec["components"]["schemas"]["BulkReject"]["required"] == ["action", "ids", "reason"]


# ---------------------------------------------------------------------- methods
def test_a_wrong_method_is_405_naming_the_allowed_ones(http):
    bulk = http.get(f"{V1}/matches/bulk", headers=admin(http))
    one = http.put(f"{V1}/associations/{A}", headers=admin(http))
    options = http.options(f"{V1}/associations", headers=admin(http))

    assert bulk.status_code == 405 and bulk.headers["allow"] == "POST"
    assert one.status_code == 405
    assert set(one.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE"}
    assert options.status_code == 405
    assert set(options.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


# ---------------------------------------------------------------------- documented errors
def test_every_api_operation_documents_its_error_statuses(spec):
    for path, operations in spec["paths"].items():
        if not path.startswith(V1):
            continue
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "413", "422", "429", "503"} <= documented, (method, path)
            if "requestBody" in operation and operation["operationId"] != "import_exchange":
                assert "400" in documented, (method, path)  # FastAPI's unreadable body


# ---------------------------------------------------------------------- words, not ids
def test_a_403_says_in_words_what_the_role_may_not_do(http):
    response = http.get(f"{V1}/needs/demo-n-001/suggestions",
                        headers=http.headers_for["partner"])

    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "partner" in detail.lower() and "suggestion" in detail.lower()
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", detail), detail


# ---------------------------------------------------------------------- docs, CSP
class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.urls.append(attrs["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "style":
            self.inline_styles += 1
        if "style" in attrs:
            self.inline_styles += 1


def test_docs_load_only_the_apps_own_files(http):
    docs = http.get("/docs")
    assets = _Assets()
    assets.feed(docs.text)

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert assets.urls and all(url.startswith("/") and not url.startswith("//")
                               for url in assets.urls), assets.urls
    assert any("icon" in url for url in assets.urls)
    assert assets.inline_scripts == 0 and assets.inline_styles == 0
    for url in assets.urls:
        response = http.get(url)
        assert response.status_code == 200 and len(response.content) > 100, url


def test_docs_and_api_responses_carry_a_content_security_policy(http):
    docs = http.get("/docs").headers.get("content-security-policy", "")
    answers = [http.get(f"{V1}/plugins", headers=admin(http)), http.get(f"{V1}/plugins"),
               http.get("/openapi.json"), http.get("/health"),
               http.get(f"{V1}/needs/demo-n-999", headers=admin(http))]

    assert "script-src 'self'" in docs and "frame-ancestors 'none'" in docs
    assert "http" not in docs and "unsafe-inline" not in docs.split("script-src")[1].split(";")[0]
    for answer in answers:
        policy = answer.headers.get("content-security-policy", "")
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, (
            answer.url, policy)
        assert answer.headers.get("x-content-type-options") == "nosniff"
