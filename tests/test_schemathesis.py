"""Schemathesis against the app's own OpenAPI document, on a real server on loopback.

Every operation is called with requests generated from the schema: its documented examples once
per role (anonymous, associations A and B, partners P and Q, coordinators of two regions,
admin), then schema-valid (positive) and schema-breaking (negative) data under a role drawn per
request. Checks: no server error, and every response conforms to the documented schema of its
status. Generation is derandomized (no example database) so CI sees the same requests every run;
the server works on its own copy of the demo database, so destructive calls harm nothing else.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from servers import serve

from api.throttle import reset_failures
from matcher.principals import Role
from matcher.store import Store

ROLES = {
    "anonymous": None,
    "association_A": {"role": Role.ASSOCIATION, "association_id": "demo-a-01"},
    "association_B": {"role": Role.ASSOCIATION, "association_id": "demo-a-12"},
    "partner_P": {"role": Role.PARTNER, "partner_id": "demo-p-01"},
    "partner_Q": {"role": Role.PARTNER, "partner_id": "demo-p-07"},
    "coordinator_R1": {"role": Role.COORDINATOR, "regions": ["africa_anglophone"]},
    "coordinator_R2": {"role": Role.COORDINATOR, "regions": ["latin_america_caribbean"]},
    "admin": {"role": Role.ADMIN},
}
POSITIVE_PER_OPERATION = 20
NEGATIVE_PER_OPERATION = 8
MIN_REQUESTS = 1_000
CHECKS = [not_a_server_error, response_schema_conformance]


def _deletions_last(operation) -> tuple[bool, bool]:
    """Deletions run last, and of those the deletion of a whole organisation (which takes its
    records and tokens with it) after the rest."""
    deletes = operation.method.upper() == "DELETE"
    organisation = operation.path.rstrip("/").count("/") == 4 and any(
        f"/{kind}/" in operation.path for kind in ("associations", "partners"))
    return deletes, deletes and organisation


def _settings(max_examples: int):
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_server(demo_db, tmp_path_factory):
    """A real server on a free loopback port over a private database copy, and a token per
    role; yields (base URL, headers per role)."""
    db = tmp_path_factory.mktemp("schemathesis") / "demo.db"
    shutil.copyfile(demo_db, db)
    store = Store(db)
    headers = {"anonymous": {}}
    for name, spec in ROLES.items():
        if spec is not None:
            spec = dict(spec)
            _, token = store.create_token(spec.pop("role"), label=name, **spec)
            headers[name] = {"Authorization": f"Bearer {token}"}
    store.close()
    with serve(db) as url:
        reset_failures()
        yield url, headers


def test_generated_requests_meet_no_server_error_and_conform_to_the_schema(fuzz_server):
    base_url, headers = fuzz_server
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # The token is the role's, never a generated one: generated tokens would only be refused,
    # and the failures would trip the rate limit on failed authentications.
    schema.config.generation.update(with_security_parameters=False)
    sent: Counter[str] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []

    def call(case, role: str) -> None:
        reset_failures()  # a deleted organisation's token is refused: no lock-out for the rest
        response = case.call(base_url=base_url, headers=headers[role], timeout=120)
        sent[case.operation.label] += 1
        statuses[(case.operation.label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:  # all are reported at the end
            failures.append(f"{case.operation.label} as {role} -> {response.status_code}: "
                            f"{str(exc).strip()[:600]}\n    {case.as_curl_command()}")

    roles = st.sampled_from(sorted(ROLES))
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=_deletions_last)
    for operation in operations:
        examples = schema.get_strategies_from_examples(operation)
        if examples:
            for role in ROLES:
                given(case=st.one_of(examples), role=st.just(role))(_settings(1)(
                    lambda case, role: call(case, role)))()
        for mode, count in ((GenerationMode.POSITIVE, POSITIVE_PER_OPERATION),
                            (GenerationMode.NEGATIVE, NEGATIVE_PER_OPERATION)):
            strategy = operation.as_strategy(generation_mode=mode)
            try:
                given(case=strategy, role=roles)(_settings(count)(
                    lambda case, role: call(case, role)))()
            except Unsatisfiable:  # nothing to break (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label

    print(f"{sum(sent.values())} requests;", ", ".join(
        f"{label} {code}: {n}" for (label, code), n in sorted(statuses.items())))
    assert len(operations) == len({o.label for o in operations}) > 30
    assert set(sent) == {o.label for o in operations}, "some operations were never called"
    assert sum(sent.values()) >= MIN_REQUESTS, sent
    assert not [key for key in statuses if key[1] == 429], "the rate limit was tripped"
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures[:30])
