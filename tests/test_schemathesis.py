"""Schemathesis against the app's own OpenAPI document, on a real server on loopback: the
API says what it does.

What ``schemathesis run URL/openapi.json --checks all -H 'Authorization: Bearer <token>'``
does, in-process, once per role (anonymous, associations A and B, partners P and Q,
coordinators of two regions, admin): every phase (examples, coverage, fuzzing, stateful) and
every check, ``ignored_auth``, ``positive_data_acceptance``, ``negative_data_rejection``,
``unsupported_method``, ``use_after_free`` and the rest included (by default the slow coverage
phase for the admin only). Each role works on a fresh
copy of the demo database, so one role's deletions harm no other. Generation is seeded, so CI
sees the same requests every run.

The default run sends at least 1,000 requests; ``DELVE_LONG_TESTS=1`` runs Schemathesis's
own default depth (at least 5,000). The lock-out after failed authentications (429, tested in
test_limits.py) is lifted here: ``ignored_auth`` sends invalid tokens on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from servers import serve_app
from starlette.types import ASGIApp, Receive, Scope, Send

import api.throttle as throttle
from api.app import create_app
from matcher.principals import Role
from matcher.settings import load_settings
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
LONG = os.environ.get("DELVE_LONG_TESTS") == "1"
MAX_EXAMPLES = 100 if LONG else 2  # per operation and phase (Schemathesis's default: 100)
MIN_REQUESTS = 5_000 if LONG else 1_000  # over all roles
SEED = 20250501


class CountRequests:
    """Counts the requests the server answers, whatever sent them."""

    def __init__(self, app: ASGIApp, counter: Counter):
        self.app, self.counter = app, counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counter["requests"] += 1
        await self.app(scope, receive, send)


# The coverage phase (boundary values of every parameter, undeclared methods, missing
# headers) takes minutes per role whatever the depth: by default it runs for the admin only.
COVERAGE_ROLES = set(ROLES) if LONG else {"admin"}


def _config(token: str | None, coverage: bool = True) -> SchemathesisConfig:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return SchemathesisConfig.from_dict({
        "seed": SEED, "workers": 1, "headers": headers,
        "checks": {"enabled": True},  # every check, as `--checks all`
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        # An import embeds its texts with the three models before it answers (a generated
        # document can hold hundreds): more than Schemathesis's default 10 s on 2 busy cores.
        "request-timeout": 60,
        "phases": {"coverage": {"enabled": coverage}},
    })


def _run(url: str, token: str | None, coverage: bool) -> list[str]:
    """One CLI-equivalent run; the failures found, one line each."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json",
                                           config=_config(token, coverage))
    failures: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            for case_id, checks in event.recorder.checks.items():
                interaction = event.recorder.interactions.get(case_id)
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info and not _excused(
                            check.name, event.label, interaction and interaction.response):
                        failure = check.failure_info.failure
                        failures.append(
                            f"{event.label} [{check.name}] {failure.title}: "
                            f"{failure.message.strip()[:300]}\n"
                            f"    {check.failure_info.code_sample[:600]}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"engine error: {event!r}"[:600])
    return sorted(set(failures))


# The two rules of the import that JSON Schema cannot state: ids are unique within the
# document (a record id twice, at any depth), and a stored need, practice or offering keeps its
# association or partner (that depends on the stored data). A schema-valid document that breaks
# one is refused with a 422 naming the record and the rule; any other refusal still fails.
_DUPLICATE_ID = re.compile(r"field 'id': (?:duplicate (?:partner|offering|association|need|"
                           r"practice) id|already belongs to (?:association|partner) )")


def _excused(check: str, label: str | None, response) -> bool:
    if check != "positive_data_acceptance" or label != "POST /api/v1/import" or response is None:
        return False
    return response.status_code == 422 and bool(_DUPLICATE_ID.search(response.text or ""))


@pytest.fixture(scope="module")
def no_lockout():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(throttle, "FAILURE_LIMIT", 10**9)
        yield


@pytest.mark.parametrize("role", list(ROLES))
def test_every_check_passes_for_every_role(role, demo_db, tmp_path, no_lockout, capsys):
    db = tmp_path / "demo.db"
    shutil.copyfile(demo_db, db)
    token = None
    if ROLES[role] is not None:
        spec = dict(ROLES[role])
        store = Store(db)
        _, token = store.create_token(spec.pop("role"), label=role, **spec)
        store.close()
    app = create_app(load_settings(db=db))
    counter: Counter = Counter()
    app.add_middleware(CountRequests, counter=counter)

    started = time.monotonic()
    with serve_app(app) as url:
        failures = _run(url, token, role in COVERAGE_ROLES)
    with capsys.disabled():
        print(f"\n  schemathesis as {role}: {counter['requests']} requests in "
              f"{time.monotonic() - started:.0f} s, {len(failures)} failures")

    _REQUESTS[role] = counter["requests"]
    assert not failures, f"{len(failures)} failures as {role}:\n" + "\n".join(failures[:25])


_REQUESTS: dict[str, int] = {}


def test_the_runs_sent_enough_requests():
    """After the per-role runs (pytest keeps file order): enough requests over all roles."""
    if set(_REQUESTS) != set(ROLES):
        pytest.skip("run with the per-role runs")
    assert sum(_REQUESTS.values()) >= MIN_REQUESTS, _REQUESTS
