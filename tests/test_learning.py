"""Learning the fusion from decisions (``matcher train``), which fusion is active, and an
association's "not interested" on a suggestion: the real model, a real SQLite file, decisions
made through the real lifecycle."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import api_client, copy_database, make_token
from typer.testing import CliRunner

from matcher.cli import app as cli
from matcher.principals import Principal, Role
from matcher.ranking.engine import Engine
from matcher.ranking.learn import labels, match_label, train
from matcher.settings import load_settings
from matcher.workflow import lifecycle

ADMIN = Principal(Role.ADMIN, label="test coordinator")
THRESHOLD = 20
SHOWN = 6
DECIDED_NEEDS = 12
runner = CliRunner()


def _made_for_a_commodity(engine: Engine, item_id: str) -> bool:
    """Whether the offering names commodities (rather than being open to any)."""
    offerings = engine.corpus().offerings
    return not bool(offerings.arrays["commodities_any"][offerings.position[item_id]])


def _mixed_needs(engine: Engine) -> list[str]:
    """Demo needs whose first ``SHOWN`` partner suggestions mix offerings made for a
    commodity and offerings open to any, in id order."""
    found = []
    for need in sorted(engine.store.needs(), key=lambda n: n["id"]):
        shown = engine.suggest(need["id"], "partner", SHOWN).suggestions
        made_for = {_made_for_a_commodity(engine, s.item_id) for s in shown}
        if len(shown) == SHOWN and made_for == {True, False}:
            found.append(need["id"])
    return found


def _decide_for_commodity_offerings(engine: Engine, need_ids: list[str]) -> tuple[int, int]:
    """For each need, coordinators approve the shown offerings made for the association's
    commodity (then close them, freeing the slot) and reject as not relevant those open to
    any commodity: they keep rejecting one kind of pair. Returns (decisions, approvals)."""
    decided = approved = 0
    for need_id in need_ids:
        for s in engine.suggest(need_id, "partner", SHOWN).suggestions:
            match = lifecycle.propose(engine, ADMIN, need_id, "partner", s.item_id)
            if _made_for_a_commodity(engine, s.item_id):
                lifecycle.transition(engine, ADMIN, match["id"], "approve")
                lifecycle.transition(engine, ADMIN, match["id"], "close", note="test: done")
                approved += 1
            else:
                lifecycle.transition(engine, ADMIN, match["id"], "reject",
                                     reason="not_relevant")
            decided += 1
    return decided, approved


@pytest.fixture(scope="module")
def decided(demo_db, tmp_path_factory) -> tuple[Path, list[str], list[str], int]:
    """A copy of the demo database where coordinators decided on the partner suggestions of
    ``DECIDED_NEEDS`` needs (none yet trained); the decided and the held-out needs, and how
    many decisions were approvals."""
    db = copy_database(demo_db, tmp_path_factory.mktemp("learning"))
    engine = Engine(load_settings(db=db, learn_min_decisions=THRESHOLD))
    needs = _mixed_needs(engine)
    assert len(needs) > DECIDED_NEEDS + 3
    chosen, held_out = needs[:DECIDED_NEEDS], needs[DECIDED_NEEDS:]
    decisions, approved = _decide_for_commodity_offerings(engine, chosen)
    assert decisions == DECIDED_NEEDS * SHOWN >= THRESHOLD
    engine.close()
    return db, chosen, held_out, approved


@pytest.fixture(scope="module")
def trained(decided, tmp_path_factory):
    """A copy of ``decided`` after ``train``: the engine that trained, and the report."""
    db = copy_database(decided[0], tmp_path_factory.mktemp("trained"))
    engine = Engine(load_settings(db=db, learn_min_decisions=THRESHOLD))
    report = train(engine)
    yield engine, report
    engine.close()


# ---------------------------------------------------------------------- labels
@pytest.mark.parametrize("row,said", [
    ({"status": "rejected", "reason": "not_relevant", "actions": {"propose", "reject"}}, 0),
    ({"status": "rejected", "reason": "capacity", "actions": {"propose", "reject"}}, None),
    ({"status": "rejected", "reason": "duplicate", "actions": {"propose", "reject"}}, None),
    ({"status": "approved", "actions": {"propose", "approve"}}, 1),
    ({"status": "closed", "actions": {"propose", "approve", "decline"}}, 0),
    ({"status": "introduced", "introduced_at": "2026-01-01", "actions": {"accept"}}, 1),
    ({"status": "outcome_recorded", "outcome": "loan", "introduced_at": "x",
      "actions": {"record_outcome"}}, 1),
])
def test_each_decision_says_relevant_or_not_or_nothing(row, said):
    full = {"reason": None, "outcome": None, "introduced_at": None, **row}
    found = match_label(full)
    assert (found if found is None else found[0]) == said


def test_an_outcome_weighs_more_than_an_acceptance_than_an_approval():
    base = {"status": "approved", "reason": None, "outcome": None, "introduced_at": None,
            "actions": {"approve"}}
    approved = match_label(base)[1]
    accepted = match_label({**base, "status": "introduced", "introduced_at": "x"})[1]
    outcome = match_label({**base, "status": "outcome_recorded", "outcome": "training",
                           "introduced_at": "x"})[1]
    assert approved < accepted < outcome


def test_decisions_made_through_the_lifecycle_are_labels(decided):
    db, chosen, _, approved = decided
    engine = Engine(load_settings(db=db))
    found = labels(engine.store)
    engine.close()
    assert len(found) == DECIDED_NEEDS * SHOWN
    assert {label.need_id for label in found} == set(chosen)
    assert 0 < sum(label.y for label in found) == approved < len(found)


# ---------------------------------------------------------------------- training
def test_below_the_threshold_train_stores_nothing_and_says_hand_weights(decided, tmp_path):
    db = copy_database(decided[0], tmp_path)
    engine = Engine(load_settings(db=db, learn_min_decisions=10_000))
    report = train(engine)
    assert report.stored is None
    assert engine.store.latest_fusion_model_id() is None
    for kind in ("partner", "peer"):
        assert report.weights[kind] is None and "fewer than the 10000 needed" in report.why[kind]
        assert engine.fusion_status(kind).description == "hand weights"
        assert engine.weights_for(kind) == engine.hand_weights(kind)
    engine.close()


def test_above_the_threshold_the_model_is_stored_with_date_size_and_decisions(trained):
    engine, report = trained
    stored = report.stored
    assert stored is not None
    assert stored["decisions"] == DECIDED_NEEDS * SHOWN
    assert stored["size"] == len(engine.store.db.execute(
        "select model from fusion_models where id = :id", {"id": stored["id"]}).fetchone()[0].encode())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", stored["trained_at"])
    assert len(stored["seen"]["decisions"]) == DECIDED_NEEDS * SHOWN
    assert set(stored["model"]["kinds"]) == {"partner"}  # no peer decisions: hand weights


def test_the_engine_ranks_with_the_learned_weights_once_trained(trained):
    engine, report = trained
    status = engine.fusion_status("partner")
    assert status.source == "learned" and status.decisions == DECIDED_NEEDS * SHOWN
    assert status.description == (f"learned from {DECIDED_NEEDS * SHOWN} decisions on "
                                  f"{report.stored['trained_at'][:10]}")
    assert engine.weights_for("partner") == {**engine.hand_weights("partner"),
                                             **report.weights["partner"]}
    assert engine.weights_for("partner") != engine.hand_weights("partner")
    assert engine.fusion_status("peer").description == "hand weights"
    assert engine.weights_for("peer") == engine.hand_weights("peer")
    assert engine.weights_for("partner", {"lexical": 0.0})["lexical"] == 0.0  # requests win


def test_a_repeatedly_rejected_kind_of_pair_drops(decided, trained):
    """Coordinators kept rejecting offerings open to any commodity and approving those made
    for the association's: the commodity signal, unused by the hand weights, gets a weight,
    and on needs nobody decided, more of the first suggestions are made for a commodity."""
    engine, report = trained
    assert engine.hand_weights("partner")["commodity"] == 0.0
    assert report.weights["partner"]["commodity"] > 0.0
    hand = engine.hand_weights("partner")
    made_for = {"hand": 0, "learned": 0}
    for need_id in decided[2]:
        for fusion, weights in (("hand", hand), ("learned", None)):
            made_for[fusion] += sum(_made_for_a_commodity(engine, s.item_id) for s in
                                    engine.suggest(need_id, "partner", 3,
                                                   weights=weights).suggestions)
    assert made_for["learned"] > made_for["hand"]


def test_raising_the_threshold_falls_back_to_the_hand_weights(trained):
    engine, _ = trained
    stricter = Engine(load_settings(db=engine.settings.db, learn_min_decisions=10_000))
    assert stricter.fusion_status("partner").description == "hand weights"
    assert stricter.weights_for("partner") == stricter.hand_weights("partner")
    stricter.close()


# ---------------------------------------------------------------------- the command line
def test_cli_train_below_the_threshold_says_hand_weights_and_exits_0(decided, tmp_path):
    db = copy_database(decided[0], tmp_path)
    result = runner.invoke(cli, ["train", "--db", str(db)],
                           env={"MATCHER_LEARN_MIN_DECISIONS": "10000"})
    assert result.exit_code == 0, result.output
    assert "no model stored" in result.stdout
    assert re.search(rf"partner\s+72 decisions \({decided[3]} relevant\): hand weights",
                     result.stdout)


def test_cli_train_then_plugins_say_the_fusion_is_learned(decided, tmp_path):
    db = copy_database(decided[0], tmp_path)
    env = {"MATCHER_LEARN_MIN_DECISIONS": str(THRESHOLD)}
    result = runner.invoke(cli, ["train", "--db", str(db)], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(r"model 1 stored \S+: 72 decisions, \d+ bytes", result.stdout)
    assert re.search(rf"partner\s+72 decisions \({decided[3]} relevant\): learned from 72 "
                     r"decisions on \d{4}-\d\d-\d\d", result.stdout)
    assert "commodity 0 -> " in result.stdout
    listed = runner.invoke(cli, ["plugins", "--db", str(db)], env=env)
    assert listed.exit_code == 0, listed.output
    assert re.search(r"fusion for partner: learned from 72 decisions on \d{4}-", listed.stdout)
    assert "fusion for peer: hand weights" in listed.stdout
    reset = runner.invoke(cli, ["train", "--db", str(db), "--reset"], env=env)
    assert reset.exit_code == 0 and "forgot 1 learned model(s)" in reset.stdout
    again = runner.invoke(cli, ["plugins", "--db", str(db)], env=env)
    assert "fusion for partner: hand weights" in again.stdout


def test_cli_train_without_a_database_fails_in_one_line(tmp_path):
    result = runner.invoke(cli, ["train", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: no database at {tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()


# ---------------------------------------------------------------------- the API
def test_api_plugins_says_which_fusion_is_active(demo_copy, trained, tmp_path, monkeypatch):
    (tmp_path / "trained").mkdir()
    monkeypatch.setenv("MATCHER_LEARN_MIN_DECISIONS", str(THRESHOLD))
    with api_client(demo_copy) as client:
        body = client.get("/api/v1/plugins", headers=make_token(demo_copy, Role.ADMIN)).json()
    assert body["fusion"]["partner"] == {"source": "hand", "description": "hand weights",
                                         "decisions": None, "trained_at": None}
    engine, report = trained
    engine.store.checkpoint()  # the model row is in the main file, not only in the WAL
    db = copy_database(engine.settings.db, tmp_path / "trained")
    with api_client(db) as client:
        body = client.get("/api/v1/plugins", headers=make_token(db, Role.ADMIN)).json()
    partner = body["fusion"]["partner"]
    assert partner["source"] == "learned" and partner["decisions"] == DECIDED_NEEDS * SHOWN
    assert partner["trained_at"] == report.stored["trained_at"]
    weights = {s["name"]: s["weights"].get("partner") for s in body["scorers"]}
    assert weights["lexical"] == pytest.approx(report.weights["partner"]["lexical"])
    assert body["fusion"]["peer"]["source"] == "hand"


NEED, OWN, OTHER = "demo-n-001", "demo-a-01", "demo-a-12"


def _mark(client, headers, need_id=NEED, **body):
    return client.post(f"/api/v1/needs/{need_id}/suggestions/not-interested",
                       json=body, headers=headers)


def _suggested(client, headers, kind="partner") -> list[str]:
    items = client.get(f"/api/v1/needs/{NEED}/suggestions", params={"kind": kind, "limit": 50},
                       headers=headers).json()["suggestions"]
    return [s.get("offering_id") or s.get("practice_id") for s in items]


@pytest.mark.parametrize("kind", ["partner", "peer"])
def test_not_interested_removes_the_suggestion_and_is_a_label(demo_copy, kind):
    own = make_token(demo_copy, Role.ASSOCIATION, association_id=OWN)
    with api_client(demo_copy) as client:
        before = _suggested(client, own, kind)
        item = before[0]
        response = _mark(client, own, kind=kind, item_id=item)
        assert response.status_code == 201, response.text
        assert response.json()["item_id"] == item and response.json()["need_id"] == NEED
        after = _suggested(client, own, kind)
        again = _mark(client, own, kind=kind, item_id=item)
        across = client.get(f"/api/v1/associations/{OWN}/suggestions",
                            params={"kind": kind, "limit": 100}, headers=own).json()
        engine = client.app.state.engines.get()
        found = labels(engine.store)
    assert item in before and item not in after and after
    assert again.status_code == 200 and again.json()["at"] == response.json()["at"]
    assert not any(s.get("offering_id", s.get("practice_id")) == item
                   and s["need_id"] == NEED for s in across["suggestions"])
    assert [(label.need_id, label.kind, label.item_id, label.y) for label in found] == \
        [(NEED, kind, item, 0)]


def test_only_the_needs_association_or_an_admin_marks_not_interested(demo_copy):
    tokens = {
        "other association": make_token(demo_copy, Role.ASSOCIATION, association_id=OTHER),
        "coordinator": make_token(demo_copy, Role.COORDINATOR, regions=["africa_anglophone"]),
        "partner": make_token(demo_copy, Role.PARTNER, partner_id="demo-p-01"),
        "admin": make_token(demo_copy, Role.ADMIN),
    }
    body = {"kind": "partner", "item_id": "demo-o-002"}
    with api_client(demo_copy) as client:
        codes = {who: _mark(client, headers, **body).status_code
                 for who, headers in tokens.items()}
        anonymous = _mark(client, {}, **body).status_code
        refusal = _mark(client, tokens["other association"], **body).json()
    assert codes == {"other association": 404, "coordinator": 403, "partner": 403,
                     "admin": 201}
    assert anonymous == 401
    assert set(refusal) == {"detail"}


@pytest.mark.parametrize("body,need,status", [
    ({"kind": "partner", "item_id": "no-such-offering"}, NEED, 404),
    ({"kind": "peer", "item_id": "demo-o-001"}, NEED, 404),  # an offering is no practice
    ({"kind": "partner", "item_id": "demo-o-001"}, "no-such-need", 404),
    ({"kind": "nobody", "item_id": "demo-o-001"}, NEED, 422),
    ({"kind": "partner"}, NEED, 422),
    ({"kind": "partner", "item_id": "demo-o-001", "extra": 1}, NEED, 422),
])
def test_a_bad_not_interested_request_is_a_4xx(demo_copy, body, need, status):
    own = make_token(demo_copy, Role.ASSOCIATION, association_id=OWN)
    with api_client(demo_copy) as client:
        response = _mark(client, own, need_id=need, **body)
    assert response.status_code == status, response.text


def test_deleting_an_association_or_a_partner_forgets_their_not_interested_marks(demo_copy):
    own = make_token(demo_copy, Role.ASSOCIATION, association_id=OWN)
    admin = make_token(demo_copy, Role.ADMIN)
    with api_client(demo_copy) as client:
        assert _mark(client, own, kind="partner", item_id="demo-o-016").status_code == 201
        assert _mark(client, own, kind="partner", item_id="demo-o-002").status_code == 201
        store = client.app.state.engines.get().store
        partner = store.get("offerings", "demo-o-002")["partner_id"]
        assert store.get("offerings", "demo-o-016")["partner_id"] != partner
        gone = client.delete(f"/api/v1/partners/{partner}", headers=admin)
        left = store.not_interested_items(NEED, "partner")
        deleted = client.delete(f"/api/v1/associations/{OWN}", headers=admin)
        after = store.not_interested_marks()
    assert gone.status_code == 200 and gone.json()["deleted"]["not_interested"] == 1
    assert left == {"demo-o-016"}
    assert deleted.status_code == 200 and deleted.json()["deleted"]["not_interested"] == 1
    assert after == []
