"""The ``matcher`` command line, through typer's CliRunner and, where the entry point itself
matters, as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from matcher import hookimpl
from matcher.cli import app
from matcher.exchange import dump_document
from matcher.plugins import get_plugin_manager
from matcher.ranking.engine import Engine
from matcher.ranking.scoring import Scorer
from matcher.reference import default_data_dir
from matcher.settings import load_settings
from matcher.store import Store

DEMO = default_data_dir() / "demo.json"
runner = CliRunner()


def run(*args: str, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def snapshot(db: Path) -> tuple:
    store = Store(db)
    try:
        return store.counts(), store.data_version(), dump_document(store.export_exchange())
    finally:
        store.close()


def ranked_ids(output: str) -> list[str]:
    return re.findall(r"^\s*\d+\. (\S+)", output, flags=re.MULTILINE)


SMALL = {
    "partners": [{"id": "c-p-1", "name": "Safe Pits", "type": "ngo", "offerings": [
        {"id": "c-o-1", "title": "Shoring training", "description": "Timber shoring for pits.",
         "category": "ohs"}]}],
    "associations": [{"id": "c-a-1", "name": "Pit Diggers", "country": "GH",
                      "commodities": ["gold"], "members": 40,
                      "needs": [{"id": "c-n-1", "text": "Our pit walls collapse in the rain."}]}],
}


# ---------------------------------------------------------------------------- import
def test_import_writes_the_file_and_reports_per_table(tmp_path):
    db = tmp_path / "cli.db"
    result = run("import", DEMO, "--db", db, "--no-embed")
    assert result.exit_code == 0, result.output
    raw = json.loads(DEMO.read_bytes())
    assert f"associations: {len(raw['associations'])} new, 0 updated, 0 unchanged" in result.stdout
    counts, version, exported = snapshot(db)
    assert counts["needs"] == sum(len(a["needs"]) for a in raw["associations"])
    assert counts["vectors"] == 0
    assert version == 1

    again = run("import", DEMO, "--db", db, "--no-embed")
    assert again.exit_code == 0
    assert f"associations: 0 new, 0 updated, {len(raw['associations'])} unchanged" in again.stdout
    assert snapshot(db) == (counts, version, exported)


def test_import_embeds_only_the_new_texts_with_the_real_model(demo_copy, tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL))
    vectors = snapshot(demo_copy)[0]["vectors"]
    result = run("import", path, "--db", demo_copy)
    assert result.exit_code == 0, result.output
    new_texts = 2  # one need, one offering; everything else has vectors already
    embedders = load_settings(db=demo_copy).embedders
    assert f"embedded {new_texts * len(embedders)} texts" in result.stdout
    assert snapshot(demo_copy)[0]["vectors"] == vectors + new_texts * len(embedders)
    again = run("import", path, "--db", demo_copy)
    assert "embedded 0 texts" in again.stdout


def test_a_batch_of_embedding_uses_every_core_unless_told_otherwise(monkeypatch, tmp_path):
    from matcher.settings import every_core

    monkeypatch.delenv("MATCHER_THREADS")
    assert every_core(load_settings(db=tmp_path / "x.db")).threads == os.cpu_count()
    monkeypatch.setenv("MATCHER_THREADS", "1")
    assert every_core(load_settings(db=tmp_path / "x.db")).threads == 1


def test_import_reads_standard_input(tmp_path):
    db = tmp_path / "stdin.db"
    result = run("import", "-", "--db", db, "--no-embed", input=json.dumps(SMALL))
    assert result.exit_code == 0, result.output
    assert snapshot(db)[0]["needs"] == 1


BAD_FILES = {
    "wrong type": (lambda d: d["associations"][-1].__setitem__("members", "120"),
                   ["members"]),
    "unknown enum in the last need": (
        lambda d: d["associations"][-1]["needs"][-1].__setitem__("category", "mining"),
        ["category"]),
    "duplicate offering id": (
        lambda d: d["partners"][-1]["offerings"][-1].__setitem__(
            "id", d["partners"][0]["offerings"][0]["id"]), ["id"]),
    "unknown field": (lambda d: d["partners"][-1].__setitem__("website", "x"), ["website"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_import_of_a_bad_file_fails_with_one_line_and_writes_nothing(demo_copy, tmp_path, case):
    mutate, words = BAD_FILES[case]
    doc = json.loads(DEMO.read_bytes())
    doc["associations"][0]["needs"][0]["text"] = "valid change that must not be written"
    mutate(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    before = snapshot(demo_copy)

    result = run("import", bad, "--db", demo_copy)

    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:")
    assert all(word in lines[0] for word in words)
    assert "Traceback" not in result.output
    assert snapshot(demo_copy) == before


def test_import_of_malformed_json_fails_with_one_line(demo_copy, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"partners": [}')
    before = snapshot(demo_copy)
    result = run("import", bad, "--db", demo_copy)
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "malformed JSON" in result.stderr
    assert snapshot(demo_copy) == before


def test_import_of_a_missing_file_fails_cleanly(tmp_path):
    result = run("import", tmp_path / "nope.json", "--db", tmp_path / "x.db")
    assert result.exit_code != 0
    assert "cannot read" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_of_a_bad_file_into_a_new_database_writes_no_record(tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(DEMO.read_bytes())
    doc["associations"][-1]["needs"][-1]["text"] = "x" * 1_000_000
    bad.write_text(json.dumps(doc))
    db = tmp_path / "new.db"
    result = run("import", bad, "--db", db)
    assert result.exit_code != 0
    assert doc["associations"][-1]["needs"][-1]["id"] in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if db.exists():
        counts = snapshot(db)[0]
        assert all(n == 0 for n in counts.values())


def test_the_installed_command_rejects_a_bad_file_with_one_line(demo_copy, tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(DEMO.read_bytes())
    doc["associations"][-1]["women_led"] = "yes"
    bad.write_text(json.dumps(doc))
    before = snapshot(demo_copy)
    command = Path(sys.executable).with_name("matcher")
    done = subprocess.run([str(command), "import", str(bad), "--db", str(demo_copy)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert doc["associations"][-1]["id"] in lines[0] and "women_led" in lines[0]
    assert snapshot(demo_copy) == before


# ---------------------------------------------------------------------------- suggest
@pytest.fixture(scope="module")
def cli_engine(demo_db):
    """An engine with the settings the CLI builds for ``--db demo_db``."""
    return Engine(load_settings(db=demo_db))


@pytest.mark.parametrize("kind", ["partner", "peer"])
def test_suggest_prints_the_ranked_list(demo_db, cli_engine, kind):
    result = run("suggest", "demo-n-001", "--kind", kind, "--db", demo_db)
    assert result.exit_code == 0, result.output
    expected = cli_engine.suggest("demo-n-001", kind)
    assert ranked_ids(result.stdout) == [s.item_id for s in expected.suggestions]
    assert "demo-n-001" in result.stdout.splitlines()[0]
    scores = [float(x) for x in re.findall(r"score (-?\d+\.\d+)", result.stdout)]
    assert scores == sorted(scores, reverse=True) and len(scores) == len(expected.suggestions)
    for s in expected.suggestions[:3]:
        assert s.owner_name in result.stdout and s.owner_id in result.stdout


def test_suggest_json_is_parseable_and_matches_the_engine(demo_db, cli_engine):
    result = run("suggest", "demo-n-021", "--db", demo_db, "--json", "--limit", "5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = cli_engine.suggest("demo-n-021", "partner", limit=5)
    assert data["need_id"] == "demo-n-021" and data["kind"] == "partner"
    assert data["category"] == expected.category
    assert [s["offering_id"] for s in data["suggestions"]] == [
        s.item_id for s in expected.suggestions]
    for s in data["suggestions"]:
        assert {"partner_id", "score", "contributions", "reasons", "rules_passed"} <= set(s)
        assert s["reasons"] and s["rules_passed"] and s["contributions"]


def test_suggest_json_for_peers(demo_db):
    result = run("suggest", "demo-n-021", "--kind", "peer", "--db", demo_db, "--json")
    data = json.loads(result.stdout)
    assert data["kind"] == "peer"
    assert data["suggestions"]
    assert all(s["association_id"] != data["association_id"] for s in data["suggestions"])


def test_suggest_for_an_association_lists_each_candidate_once(demo_db):
    result = run("suggest", "demo-a-01", "--db", demo_db, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ids = [s["offering_id"] for s in data["suggestions"]]
    assert ids and len(ids) == len(set(ids))
    assert data["association_id"] == "demo-a-01" and "need_id" not in data  # as the API
    text = run("suggest", "demo-a-01", "--db", demo_db)
    assert ranked_ids(text.stdout) == ids


def test_suggest_weight_override_changes_the_contributions(demo_db):
    result = run("suggest", "demo-n-001", "--db", demo_db, "--json", "--weight", "lexical:0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all("lexical" not in s["contributions"] for s in data["suggestions"])


@pytest.mark.parametrize("args, words", [
    (["demo-n-999"], ["demo-n-999"]),
    (["demo-n-001", "--kind", "partners"], ["--kind"]),
    (["demo-n-001", "--weight", "nosuchscorer:1"], ["nosuchscorer"]),
    (["demo-n-001", "--weight", "semantic:nan"], ["semantic:nan"]),
])
def test_suggest_fails_with_one_line_on_bad_requests(demo_db, args, words):
    result = run("suggest", *args, "--db", demo_db)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert all(word in lines[0] for word in words)


# ---------------------------------------------------------------------------- export
def test_export_to_stdout_is_the_store_as_an_exchange_document(demo_db):
    result = run("export", "--db", demo_db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == snapshot(demo_db)[2]


def test_export_to_a_file(demo_db, tmp_path):
    target = tmp_path / "out.json"
    result = run("export", "--db", demo_db, "-o", target)
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8")) == snapshot(demo_db)[2]
    assert result.stdout.strip() == ""


def test_exported_file_imports_back_unchanged(demo_copy, tmp_path):
    target = tmp_path / "out.json"
    run("export", "--db", demo_copy, "-o", target)
    before = snapshot(demo_copy)
    result = run("import", target, "--db", demo_copy, "--no-embed")
    assert result.exit_code == 0, result.output
    assert " 0 new, 0 updated" in result.stdout and "updated" in result.stdout
    assert not re.search(r"[1-9]\d* (new|updated)", result.stdout)
    assert snapshot(demo_copy) == before


# ---------------------------------------------------------------------------- plugins
class ShoutScorer(Scorer):
    name = "test_shout"
    description = "test scorer listed by the CLI"

    def score(self, ctx):
        return np.zeros(len(ctx.candidates))


class ShoutPlugin:
    @hookimpl
    def register_scorers(self, register):
        register(ShoutScorer())


@pytest.fixture
def shout_plugin():
    pm = get_plugin_manager()
    plugin = ShoutPlugin()
    pm.register(plugin, name="test-shout-plugin")
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


def test_plugins_lists_name_weight_source_and_description(tmp_path, shout_plugin):
    result = run("plugins", "--db", tmp_path / "p.db")
    assert result.exit_code == 0, result.output
    settings = load_settings(db=tmp_path / "p.db")
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for name, registered in Engine(settings).scorers().items():
        line = lines[name]
        assert f"[{registered.source}]" in line
        assert registered.scorer.description in line
        weight = Engine(settings).weights_for("partner").get(name, 0.0)
        assert re.search(rf"partner {weight:g}\b", line), line
    assert "[builtin]" in lines["semantic"]
    assert "[test-shout-plugin]" in lines["test_shout"]
    assert "test scorer listed by the CLI" in lines["test_shout"]


# ---------------------------------------------------------------------------- entry points
def test_python_dash_m_matcher_help_works():
    done = subprocess.run([sys.executable, "-m", "matcher", "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for command in ("import", "export", "suggest", "plugins", "serve"):
        assert command in done.stdout


def test_no_arguments_prints_help():
    result = run()
    assert "import" in result.output and "suggest" in result.output


def test_serve_trusts_forwarded_headers_only_from_configured_proxies(empty_db, monkeypatch):
    import uvicorn
    from fastapi.testclient import TestClient

    from api import throttle

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setenv("MATCHER_TRUSTED_PROXIES", "10.0.0.1, 10.2.0.0/16")
    throttle.reset_failures()
    try:
        Store(empty_db).close()  # serve refuses a missing database
        assert run("serve", "--db", empty_db).exit_code == 0
        served, options = calls[0]
        assert options["proxy_headers"] is False  # uvicorn's own default trusts 127.0.0.1
        bad = {"Authorization": "Bearer dm_wrong"}
        for peer, forwarded_for, blamed in (("10.2.3.4", "203.0.113.5", "203.0.113.5"),
                                            ("127.0.0.1", "203.0.113.6", "127.0.0.1")):
            with TestClient(served, client=(peer, 40000)) as client:
                client.get("/api/v1/plugins", headers={**bad, "X-Forwarded-For": forwarded_for})
            assert throttle.failures_of(throttle.address_key(blamed)) == 1
    finally:
        throttle.reset_failures()


# ---------------------------------------------------------------------------- newcomers
@pytest.mark.parametrize("args", [
    ["suggest", "demo-n-001"], ["export"], ["serve"], ["token", "list"], ["user", "list"],
    ["token", "create", "--role", "admin"], ["token", "revoke", "1"], ["round"], ["train"],
    ["notify"], ["outbox"], ["user", "disable", "kofi"],
])
def test_a_missing_database_is_refused_with_one_line_and_not_created(tmp_path, args):
    db = tmp_path / "typo.db"
    result = run(*args, "--db", db)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no database at"), result.stderr
    assert f"matcher import FILE --db {db}" in lines[0]
    assert not db.exists() and list(tmp_path.iterdir()) == []


def test_a_database_in_a_missing_folder_is_refused_with_one_line(tmp_path):
    db = tmp_path / "no-such-folder" / "new.db"
    result = run("import", DEMO, "--db", db)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"Error: no folder {db.parent} to create the database new.db in"], \
        result.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_creates_the_database_and_prints_its_steps_with_counts_and_time(tmp_path):
    db = tmp_path / "new.db"
    result = run("import", DEMO, "--db", db, "--no-embed")
    assert result.exit_code == 0, result.output
    assert db.is_file()
    assert re.search(r"^import: 0/\d+ \(at \d+\.\d s\)$", result.stderr, re.MULTILINE)
    assert re.search(r"^import: (\d+)/\1 done in \d+\.\d s$", result.stderr, re.MULTILINE)


def test_embedding_prints_a_line_per_embedder_with_counts_and_time(demo_copy, tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    result = run("import", path, "--db", demo_copy)
    assert result.exit_code == 0, result.output
    done = re.findall(r"^embedding \(([\w-]+)\): (\d+)/\2 done in \d+\.\d s$", result.stderr,
                      re.MULTILINE)
    assert done and {name for name, _ in done} == set(load_settings(db=demo_copy).embedders)


def test_suggest_refuses_an_unknown_id_before_loading_any_model(demo_db, monkeypatch):
    from matcher.ranking import engine as engine_module

    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was built for an unknown id")
    monkeypatch.setattr(engine_module, "Engine", no_engine)
    result = run("suggest", "nope-999", "--db", demo_db)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no need or association with id 'nope-999'"


def test_suggest_json_speaks_the_apis_words(demo_db):
    from api.schemas import PartnerSuggestion, PeerSuggestion

    partner = json.loads(run("suggest", "demo-n-021", "--db", demo_db, "--json").stdout)
    peer = json.loads(run("suggest", "demo-n-021", "--kind", "peer", "--db", demo_db,
                          "--json").stdout)
    for data, model in ((partner, PartnerSuggestion), (peer, PeerSuggestion)):
        assert data["suggestions"]
        for s in data["suggestions"]:
            assert set(s) == set(model.model_fields)
            assert "item_id" not in s and "owner_id" not in s


@pytest.mark.parametrize("command", [["suggest"], ["round"], ["glossary", "list"]])
def test_flags_show_no_value_in_the_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    line = next(ln for ln in result.stdout.splitlines() if ln.strip().startswith("--json"))
    assert "<bool>" not in line and "BOOLEAN" not in line


def test_demo_accounts_stay_the_same_across_restarts_of_one_database(demo_copy, monkeypatch):
    import stat

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    first = run("serve", "--demo", "--db", demo_copy)
    assert first.exit_code == 0, first.output
    assert "new demo accounts" in first.stdout
    kept = demo_copy.with_name(demo_copy.name + ".credentials.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secrets_ = re.findall(r"(?:password \S+|dm_\S+)", first.stdout)
    assert len(secrets_) == 8, first.stdout

    again = run("serve", "--demo", "--db", demo_copy)
    assert again.exit_code == 0, again.output
    assert "demo accounts unchanged" in again.stdout and str(kept) in again.stdout
    assert re.findall(r"(?:password \S+|dm_\S+)", again.stdout) == secrets_
    store = Store(demo_copy)
    try:
        tokens = [t for t in store.tokens() if t["label"].startswith("demo ")]
        assert len(tokens) == 4 and not any(t["revoked_at"] for t in tokens)
    finally:
        store.close()
