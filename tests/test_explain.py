"""Reasons a miner can read: shared words only when they carry meaning (no numbers, no function
words, in en, fr, es and pt), no raw figures, the topic reason from the same value as the topic
bar, and a short summary of what is suggested. Over the demo data and the real model."""

from __future__ import annotations

import re

import pytest

from matcher.language import detect_language
from matcher.ranking.explain import shorten, summary_of
from matcher.ranking.textproc import _english_stop_words, meaningful
from plugins.category import TOPIC_REASON

SHARED = "shared words: "


@pytest.mark.parametrize("word,lang", [
    ("two", "en"), ("getting", "en"), ("gets", "en"), ("also", "en"), ("2024", "en"),
    ("deux", "fr"), ("trois", "fr"), ("nous", "fr"), ("pour", "fr"), ("avons", "fr"),
    ("dos", "es"), ("veinte", "es"), ("para", "es"), ("tenemos", "es"),
    ("dois", "pt"), ("três", "pt"), ("para", "pt"), ("temos", "pt"),
])
def test_numbers_and_function_words_are_not_meaningful(word, lang):
    assert not meaningful(word, lang)


@pytest.mark.parametrize("word,lang", [
    ("pump", "en"), ("mining", "en"), ("mine", "en"), ("interest", "en"), ("mercury", "en"),
    ("pompe", "fr"), ("crédit", "fr"), ("mercurio", "es"), ("barequeros", "es"),
    ("bomba", "pt"), ("garimpo", "pt"),
])
def test_words_of_the_field_are_meaningful(word, lang):
    assert meaningful(word, lang)


def _every_list(engine, kinds=("partner", "peer"), lang="en"):
    corpus = engine.corpus()
    for need_id in sorted(corpus.needs):
        for kind in kinds:
            yield need_id, kind, engine.suggest(need_id, kind, limit=10, lang=lang)


def test_shared_words_carry_meaning_in_every_language(engine):
    languages, words = set(), 0
    for need_id, _kind, result in _every_list(engine):
        lang = detect_language(engine.corpus().needs[need_id]["text"])
        for suggestion in result.suggestions:
            for reason in suggestion.reasons:
                if not reason.startswith(SHARED):
                    continue
                languages.add(lang)
                for word in reason.removeprefix(SHARED).split(", "):
                    words += 1
                    assert not re.search(r"\d", word), (need_id, reason)
                    assert meaningful(word, lang), (need_id, lang, reason)
    assert words > 20 and {"en", "fr", "es", "pt"} <= languages


def test_no_reason_shows_a_raw_figure(engine):
    for need_id, _kind, result in _every_list(engine):
        for suggestion in result.suggestions:
            for reason in suggestion.reasons:
                # counts stated in words ("of 30 members or more") are rules, not scores
                assert not re.search(r"\d[.,]\d", reason), (need_id, reason)


def test_the_topic_reason_agrees_with_the_topic_bar(engine):
    seen = {"with": 0, "without": 0}
    for need_id, kind, result in _every_list(engine):
        weight = engine.weights_for(kind)["category"]
        for suggestion in result.suggestions:
            bar = suggestion.contributions.get("category", 0.0)
            said = any(r.startswith(("topic: ", "related topic: ")) for r in suggestion.reasons)
            assert said == (bar >= weight * TOPIC_REASON - 1e-4), (need_id, kind, bar,
                                                                    suggestion.reasons)
            seen["with" if said else "without"] += 1
    assert seen["with"] and seen["without"]


def test_topic_reason_names_the_need_topic_when_the_need_has_it(engine):
    result = engine.suggest("demo-n-001", "partner", limit=5)
    assert "topic: Occupational health and safety" in result.suggestions[0].reasons


def test_every_partner_suggestion_has_a_short_summary(engine):
    result = engine.suggest("demo-n-001", "partner", limit=10)
    offerings = {o["id"]: o for o in engine.store.offerings()}
    for suggestion in result.suggestions:
        assert 0 < len(suggestion.summary) <= 180
        description = " ".join(offerings[suggestion.item_id]["description"].split())
        assert description.startswith(suggestion.summary.rstrip("…"))


def test_english_function_words_are_scikit_learns_list():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert _english_stop_words() == ENGLISH_STOP_WORDS


def test_a_summary_is_the_first_sentence_cut_at_a_word():
    text = ("Loans for pumps and generators. Repaid over two years. " + "word " * 60).strip()
    assert summary_of(text) == "Loans for pumps and generators. Repaid over two years."
    long = "A " + "very " * 60 + "long sentence."
    cut = summary_of(long)
    assert len(cut) <= 180 and cut.endswith("…") and not cut.endswith(" …")
    assert long.startswith(cut.removesuffix("…"))
    assert summary_of("We shored our pits. Each frame is checked daily.",
                      skip="We shored our pits") == "Each frame is checked daily."
    assert shorten("short", 10) == "short" and summary_of("") == ""
