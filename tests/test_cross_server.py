"""Several servers over one database: what is written through one is ranked by another on
its next request. Each engine reads the store's data version (one read of a primary key) per
request and rebuilds its corpus when it changed, so the delay is that one rebuild, never a
period of waiting.

Two server engines (``Engine.for_server``, each with its own store connection and corpus)
over one database: the ``db_target`` fixture, a SQLite file with the demo data here; a
PostgreSQL URL holding the same data is one more parameter of it (e.g. filled by
``matcher.services.migrate_store.migrate_store(demo_copy, url)``)."""

from __future__ import annotations

import time

import pytest
from postgres import demo_target

from matcher.exchange import Need, Offering
from matcher.ranking.engine import Engine
from matcher.settings import load_settings

NEED = "demo-n-001"  # an association's need about flooding pits and shoring
REBUILD_BOUND_S = 60.0  # one corpus rebuild of the demo data, on a busy test machine


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, demo_db, tmp_path) -> str:
    """The database both servers use, holding the demo data."""
    return demo_target(request, demo_db, tmp_path)


@pytest.fixture
def servers(db_target):
    """Two servers' engines over one database, each warmed up (its corpus built)."""
    engines = [Engine.for_server(load_settings(db=db_target, scorer_budget_ms=600_000))
               for _ in range(2)]
    for engine in engines:
        engine.warm_up()
    yield engines
    for engine in engines:
        engine.close()


def _suggested(engine: Engine, need_id: str) -> tuple[set[str], float]:
    """The offerings suggested for ``need_id`` now, and how long the request took."""
    begun = time.monotonic()
    items = {s.item_id for s in engine.suggest(need_id, "partner", 1000).suggestions}
    return items, time.monotonic() - begun


def test_an_offering_added_through_one_server_is_suggested_by_the_other_at_once(servers):
    a, b = servers
    before, _ = _suggested(b, NEED)
    partner = a.store.get("offerings", "demo-o-001")["partner_id"]
    a.create_record("offerings", Offering(
        id="xs-o-1", title="Shoring and timbering of flooded pits",
        description="We train miners to shore pit walls with timber and to pump out "
                    "flood water safely.", category="ohs"), partner)

    after, delay = _suggested(b, NEED)  # the very next request through the other server

    assert "xs-o-1" not in before and "xs-o-1" in after
    assert delay < REBUILD_BOUND_S


def test_a_need_added_through_one_server_is_suggested_for_by_the_other_at_once(servers):
    a, b = servers
    association = a.store.get("needs", NEED)["association_id"]
    a.create_record("needs", Need(
        id="xs-n-1", text="Our pits flood and the walls cave in: we need help with "
                          "timbering and pumps."), association)

    items, delay = _suggested(b, "xs-n-1")

    assert "demo-o-001" in items and delay < REBUILD_BOUND_S


def test_a_server_that_saw_no_write_keeps_its_corpus(servers):
    _, b = servers
    corpus = b.corpus()
    _suggested(b, NEED)

    assert b.corpus() is corpus  # the check per request is a read, not a rebuild
