"""The calibrated strength of a suggestion: the shipped model loads and predicts, every
suggestion carries a strength and a label that agree, a list says when nothing is good, the
strength of a pair does not depend on the rest of the list, and ``matcher calibrate`` writes a
model that loads. Figures are the benchmark's business (bench/calibration.py), not the tests'."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from matcher.cli import app
from matcher.ranking.calibration import (
    FEATURES,
    LABELS,
    WEAK,
    Calibration,
    KindModel,
    label_of,
    load_calibration,
    meaning_scorer,
)
from matcher.ranking.engine import Engine
from matcher.reference import default_data_dir
from matcher.settings import load_settings

DATA = default_data_dir()
RAW = json.loads((DATA / "demo.json").read_bytes())
NEEDS = {n["id"]: n for a in RAW["associations"] for n in a["needs"]}
KINDS = ("partner", "peer")
runner = CliRunner()


@pytest.fixture(scope="module")
def shipped() -> Calibration:
    return load_calibration(DATA / "calibration.json")


def fixed_calibration(path: Path, intercept: float) -> Path:
    """A calibration whose every strength is about sigmoid(``intercept``)."""
    kinds = {kind: KindModel(list(names), np.zeros(len(names)), np.ones(len(names)),
                             np.zeros(len(names)), intercept) for kind, names in FEATURES.items()}
    Calibration(kinds).save(path)
    return path


# ---------------------------------------------------------------------------- the model
def test_shipped_calibration_loads_with_its_provenance(shipped):
    assert set(shipped.kinds) == set(KINDS)
    provenance = shipped.provenance
    for key in ("dataset", "dataset_sha256", "qrels_sha256", "fitted_at", "pairs", "positives",
                "label", "model"):
        assert provenance[key], key
    assert re.fullmatch(r"[0-9a-f]{64}", provenance["dataset_sha256"])
    for kind, model in shipped.kinds.items():
        assert model.features == list(FEATURES[kind])
        assert 0 < model.positives < model.pairs == provenance["pairs"][kind]


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_calibration_predicts_probabilities(shipped, kind):
    model = shipped.kinds[kind]
    rng = np.random.default_rng(0)
    x = model.mean + rng.normal(size=(200, len(model.features))) * model.scale * 3
    x[::7, 0] = np.nan  # a missing feature counts as its mean
    strength = model.predict(x)
    assert strength.shape == (200,)
    assert np.all((strength >= 0) & (strength <= 1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("feature", ["meaning:score", "score:category"])
def test_strength_rises_with_similarity_and_topic(shipped, kind, feature):
    model = shipped.kinds[kind]
    j = model.features.index(feature)
    x = np.tile(model.mean, (9, 1))
    x[:, j] = model.mean[j] + np.linspace(-2, 2, 9) * model.scale[j]
    strength = model.predict(x)
    assert np.all(np.diff(strength) > 0)


def test_the_meaning_features_read_the_model_that_speaks_for_the_need(engine, shipped):
    """USE for its languages, e5 beyond them; each on its own scale, stored with the model."""
    scorers = {name: r.scorer for name, r in engine.scorers().items()}
    assert meaning_scorer("fr", scorers).name == "semantic"
    assert meaning_scorer("sw", scorers).name == "semantic_e5"
    for model in shipped.kinds.values():
        assert {"use-multilingual", "e5-multilingual"} <= set(model.moments)
    data = shipped.to_json()
    data["kinds"]["peer"]["moments"]["e5-multilingual"][1] = 0.0
    with pytest.raises(ValueError):
        Calibration.from_json(data)


def test_labels_follow_the_thresholds():
    (_, strong), (_, good), (_, possible) = LABELS
    assert strong > good > possible > 0
    assert [label_of(v) for v in (1.0, strong, good, possible, possible - 1e-9, 0.0)] == [
        "strong", "strong", "good", "possible", WEAK, WEAK]


def test_a_malformed_calibration_is_refused(tmp_path, shipped):
    data = shipped.to_json()
    data["kinds"]["partner"]["scale"][0] = 0.0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError):
        load_calibration(path)


# ---------------------------------------------------------------------------- the engine
@pytest.mark.parametrize("kind", KINDS)
def test_every_suggestion_has_a_strength_and_a_label_that_agree(engine, kind):
    good = dict(LABELS)["good"]
    for need_id in NEEDS:
        result = engine.suggest(need_id, kind)
        assert result.suggestions
        for s in result.suggestions:
            assert 0.0 <= s.strength <= 1.0
            assert s.strength_label == label_of(s.strength)
        assert result.weak == (not any(s.strength >= good for s in result.suggestions))


def test_some_demo_suggestions_are_good_and_some_lists_are_weak(engine):
    """The shipped model separates: not every list weak, not every suggestion strong."""
    labels = [s.strength_label for need_id in NEEDS for kind in KINDS
              for s in engine.suggest(need_id, kind, limit=5).suggestions]
    assert {"strong", "good"} & set(labels)
    assert WEAK in labels


def test_a_pairs_strength_does_not_depend_on_the_rest_of_the_list(engine):
    for need_id in list(NEEDS)[:8]:
        full = {s.item_id: s.strength for s in engine.suggest(need_id, "partner", limit=20)
                .suggestions}
        short = engine.suggest(need_id, "partner", limit=3).suggestions
        reweighted = engine.suggest(need_id, "partner", limit=20,
                                    weights={"lexical": 0, "semantic": 3}).suggestions
        for s in [*short, *reweighted]:
            if s.item_id in full:
                assert s.strength == pytest.approx(full[s.item_id], abs=1e-4)


def test_association_suggestions_carry_strengths(engine):
    association = RAW["associations"][0]["id"]
    result = engine.suggest_for_association(association, "peer")
    assert result.suggestions
    assert all(s.strength_label == label_of(s.strength) for s in result.suggestions)
    good = dict(LABELS)["good"]
    assert result.weak == (not any(s.strength >= good for s in result.suggestions))


@pytest.mark.parametrize("intercept, weak", [(-20.0, True), (20.0, False)])
def test_the_list_says_weak_when_no_suggestion_is_good(demo_db, tmp_path, intercept, weak):
    path = fixed_calibration(tmp_path / "calibration.json", intercept)
    engine = Engine(load_settings(db=demo_db, calibration=path))
    result = engine.suggest("demo-n-001", "partner")
    assert result.weak is weak
    assert {s.strength_label for s in result.suggestions} == {WEAK if weak else "strong"}


def test_the_calibration_does_not_change_the_ranking(engine, demo_db, tmp_path):
    path = fixed_calibration(tmp_path / "calibration.json", -20.0)
    other = Engine(load_settings(db=demo_db, calibration=path))
    for kind in KINDS:
        ours = engine.suggest("demo-n-003", kind, limit=20).suggestions
        theirs = other.suggest("demo-n-003", kind, limit=20).suggestions
        assert [(s.item_id, s.score) for s in ours] == [(s.item_id, s.score) for s in theirs]


# ---------------------------------------------------------------------------- the command line
def test_suggest_json_carries_strength_label_and_weak(demo_db):
    result = runner.invoke(app, ["suggest", "demo-n-001", "--db", str(demo_db), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data["weak"], bool)
    for s in data["suggestions"]:
        assert 0 <= s["strength"] <= 1 and s["strength_label"] == label_of(s["strength"])


def test_suggest_prints_the_strength_as_a_word_and_a_percent(demo_db, engine):
    result = runner.invoke(app, ["suggest", "demo-n-001", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    shown = re.findall(r"score -?\d+\.\d+  (strong|good|possible|weak) \((\d+)%\)", result.stdout)
    expected = [(s.strength_label, str(int(s.strength * 100 + 1e-6)))
                for s in engine.suggest("demo-n-001", "partner").suggestions]
    assert shown == expected


def tiny_benchmark(folder: Path) -> Path:
    """The demo data with made-up labels (grade 2 for the same category): only to drive the
    command, its figures mean nothing."""
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps(RAW), encoding="utf-8")
    offerings = [o for p in RAW["partners"] for o in p["offerings"]]
    practices = [(pr, a["id"]) for a in RAW["associations"] for pr in a["practices"]]
    qrels = {"partner_qrels": {}, "peer_qrels": {}, "forbidden": {}}
    for a in RAW["associations"]:
        for n in a["needs"]:
            if n.get("category"):
                qrels["partner_qrels"][n["id"]] = {
                    o["id"]: 2 for o in offerings if o["category"] == n["category"]}
                qrels["peer_qrels"][n["id"]] = {
                    pr["id"]: 2 for pr, owner in practices
                    if owner != a["id"] and pr.get("category") == n["category"]}
    (folder / "qrels.json").write_text(json.dumps(qrels), encoding="utf-8")
    return folder


def test_calibrate_writes_a_calibration_that_loads(demo_copy, tmp_path):
    folder = tiny_benchmark(tmp_path / "tiny")
    output = tmp_path / "out.json"
    result = runner.invoke(app, ["calibrate", str(folder), "--db", str(demo_copy), "-o",
                                 str(output), "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "cross-validated" in result.stdout and "AUC" in result.stdout
    calibration = load_calibration(output)
    provenance = calibration.provenance
    assert provenance["dataset"] == "tiny"
    assert set(provenance["pairs"]) == set(KINDS)
    assert all(provenance["positives"][kind] > 0 for kind in KINDS)
    engine = Engine(load_settings(db=demo_copy, calibration=output))
    strengths = [s.strength for s in engine.suggest("demo-n-001", "peer").suggestions]
    assert strengths and all(0 <= v <= 1 for v in strengths)


def test_calibrate_fails_with_one_line_on_a_missing_folder(tmp_path):
    result = runner.invoke(app, ["calibrate", str(tmp_path / "nothing"), "--db",
                                 str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "cannot read the set" in result.output


def test_eval_prints_a_line_per_step_with_counts_and_time(demo_copy, tmp_path):
    folder = tiny_benchmark(tmp_path / "tiny")
    result = runner.invoke(app, ["eval", str(folder), "--db", str(demo_copy), "--run",
                                 str(tmp_path / "run.json")])
    assert result.exit_code == 0, result.output
    needs = sum(len(a["needs"]) for a in RAW["associations"])
    for step in ("import", "ranking (partner)", "ranking (peer)"):
        assert re.search(rf"^{re.escape(step)}: (\d+)/\1 done in \d+\.\d s$", result.stderr,
                         re.MULTILINE), (step, result.stderr)
    assert f"ranking (peer): {needs}/{needs} done in" in result.stderr
