"""The multilingual ASM glossary: local words find the concept, coordinators add words, and the
engine uses it (a need in regional words finds the offering written in plain English)."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matcher.cli import app
from matcher.exchange import parse_document
from matcher.glossary import (
    CONCEPT_TOKEN,
    Glossary,
    GlossaryError,
    add_term,
    load_glossary,
)
from matcher.ranking.engine import Engine
from matcher.reference import default_data_dir
from matcher.settings import load_settings

RAW = json.loads((default_data_dir() / "demo.json").read_text(encoding="utf-8"))
runner = CliRunner()


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(c))


MERCURY_OFFERINGS = {o["id"] for p in RAW["partners"] for o in p["offerings"]
                     if "mercur" in fold(o["title"])}


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


@pytest.mark.parametrize("text, concept", [
    ("Los barequeros de la quebrada", "artisanal_miner"),
    ("usamos AZOGUE en la batea", "mercury"),
    ("the galamsey boys at the river", "asm"),
    ("Os garimpeiros do rio", "artisanal_miner"),
    ("wachimbaji wanatumia zebaki", "mercury"),
    ("gumagamit pa kami ng asoge", "mercury"),
    ("masih pakai air raksa di tromol", "mercury"),
    ("orpailleurs du village", "artisanal_miner"),
])
def test_a_local_word_names_its_concept_in_any_case_accent_or_plural(glossary, text, concept):
    assert concept in glossary.concepts_in(text)


def test_a_text_in_regional_words_gets_the_english_gloss_for_the_embedders(glossary):
    expanded = glossary.expand("Los barequeros usan azogue")
    assert expanded.startswith("Los barequeros usan azogue (")
    assert "mercury" in expanded and "artisanal miners" in expanded


def test_words_every_encoder_knows_are_not_glossed(glossary):
    text = "Training on retorts for artisanal miners"
    assert glossary.concepts_in(text) and glossary.expand(text) == text


def test_the_word_match_shares_a_concept_token_across_languages(glossary):
    assert CONCEPT_TOKEN + "mercury" in glossary.tokens("nos falta dejar el azogue")
    assert CONCEPT_TOKEN + "mercury" in glossary.tokens("Mercury-free processing")
    assert glossary.tokens("the weather was fine") == []


def test_a_word_added_by_a_deployment_is_merged_over_the_bundled_glossary(tmp_path):
    local = tmp_path / "mine.glossary.json"
    assert "mercury" not in load_glossary(local).concepts_in("they burn kikombe at night")
    add_term(local, "mercury", "sw-TZ", "kikombe")
    mine = load_glossary(local)
    assert "mercury" in mine.concepts_in("they burn kikombe at night")
    assert mine.digest != load_glossary().digest  # the embedders embed again


def test_a_new_concept_needs_a_gloss_and_names_are_checked(tmp_path):
    local = tmp_path / "g.json"
    with pytest.raises(GlossaryError, match="gloss"):
        add_term(local, "stamp_battery", "en", "stamp battery")
    with pytest.raises(GlossaryError, match="language"):
        add_term(local, "mercury", "Swahili", "zebaki")
    with pytest.raises(GlossaryError, match="concept"):
        add_term(local, "Mercury!", "sw", "zebaki")
    assert not local.exists()


def test_the_cli_adds_a_word_and_lists_it(tmp_path):
    local = tmp_path / "g.json"
    added = runner.invoke(app, ["glossary", "add", "stamp_battery", "en-ZW", "stamp battery",
                                "--gloss", "stamp mill", "--file", str(local)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["glossary", "list", "--file", str(local),
                                 "--concept", "stamp_battery", "--json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)["stamp_battery"]["terms"]["en-ZW"] == ["stamp battery"]


def test_the_cli_refuses_a_bad_entry_in_one_line(tmp_path):
    result = runner.invoke(app, ["glossary", "add", "mercury", "Swahili", "zebaki",
                                 "--file", str(tmp_path / "g.json")])
    assert result.exit_code != 0
    assert result.stderr.strip().count("\n") == 0 and "language" in result.stderr


def test_a_broken_glossary_file_is_a_one_line_error(tmp_path):
    local = tmp_path / "g.json"
    local.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["glossary", "list", "--file", str(local)])
    assert result.exit_code == 1 and "cannot read the glossary" in result.stderr


REGIONAL_NEEDS = {
    "test-n-azogue": "Nuestros barequeros siguen usando azogue en la quebrada. "
                     "¿Quién nos enseña a trabajar sin él?",
    "test-n-azougue": "Os garimpeiros ainda queimam o azougue no barraco.",
}


def _mercury_rank(engine: Engine, need_id: str) -> int:
    ranked = [s.item_id for s in engine.suggest(need_id, "partner", 20).suggestions]
    return min((r for r, item in enumerate(ranked) if item in MERCURY_OFFERINGS), default=99)


def test_a_need_in_regional_words_finds_the_mercury_offering_thanks_to_the_glossary(
        demo_db, tmp_path):
    """With the real model: a need saying "azogue" (not "mercurio") ranks a mercury offering
    first; the same engine without the glossary ranks it lower. (Only the multilingual USE
    embedder: the others are silent for Spanish and Portuguese needs, and re-embedding the demo
    without the glossary stays quick.)"""
    doc = json.loads(json.dumps(RAW))
    for need_id, text in REGIONAL_NEEDS.items():
        doc["associations"][0]["needs"].append({"id": need_id, "text": text})
    ranks = {}
    for label in ("with", "without"):
        db = tmp_path / f"{label}.db"
        shutil.copyfile(demo_db, db)
        engine = Engine(load_settings(db=db, glossary=Path(tmp_path / "none.json"),
                                      embedders=["use-multilingual"]))
        if label == "without":
            engine.glossary = Glossary({}, "none")
        engine.store.import_exchange(parse_document(json.dumps(doc), engine.ref))
        engine.sync_embeddings()
        ranks[label] = [_mercury_rank(engine, need_id) for need_id in REGIONAL_NEEDS]
        engine.close()
    assert ranks["with"] == [0, 0], ranks
    assert all(w < wo for w, wo in zip(ranks["with"], ranks["without"])), ranks


# ------------------------------------------------------------ languages the USE model lacks
@pytest.mark.parametrize("need_id, language", [("demo-n-004", "sw"), ("demo-n-055", "tl")])
def test_a_need_in_a_language_use_lacks_is_read_by_the_multilingual_e5_model(
        engine, need_id, language):
    result = engine.suggest(need_id, "partner")
    assert result.language == language and not result.failed_scorers
    top = result.suggestions[0].contributions
    assert top["semantic_e5"] != 0.0 and top.get("semantic", 0.0) == 0.0


def test_an_english_need_is_read_by_use_and_not_by_e5(engine):
    top = engine.suggest("demo-n-001", "partner").suggestions[0].contributions
    assert top["semantic"] != 0.0 and top.get("semantic_e5", 0.0) == 0.0


def test_a_swahili_need_about_a_loan_for_a_crusher_gets_a_finance_offering_first(engine):
    offerings = {o["id"]: o for p in RAW["partners"] for o in p["offerings"]}
    first = engine.suggest("demo-n-004", "partner").suggestions[0]
    assert offerings[first.item_id]["category"] == "finance", first.item_id


def test_words_of_a_language_the_encoder_lacks_are_glossed_like_regional_ones():
    glossary = load_glossary(known=frozenset({"en", "fr", "es", "pt"}))
    assert "(loan and credit" in glossary.expand("Tunahitaji mkopo wa kununua mashine")
    assert glossary.expand("Nous cherchons un crédit") == "Nous cherchons un crédit"


def test_e5_is_a_second_signal_for_partner_suggestions_to_needs_use_reads(engine):
    """English partner needs: USE and e5 both speak; a Swahili need: e5 alone, once; peers: USE."""
    english = engine.suggest("demo-n-001", "partner").suggestions[0].contributions
    assert english["semantic"] != 0.0 and english["semantic_e5_second"] != 0.0
    swahili = engine.suggest("demo-n-004", "partner").suggestions[0].contributions
    assert swahili["semantic_e5"] != 0.0 and swahili.get("semantic_e5_second", 0.0) == 0.0
    peer = engine.suggest("demo-n-001", "peer").suggestions[0].contributions
    assert "semantic_e5_second" not in peer
