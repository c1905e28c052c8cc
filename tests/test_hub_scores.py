"""The semantic scorers' hub scores (plugins.semantic.hub_state): brought up to date after a
write, they equal those computed anew, and only what changed is compared again."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from matcher.ranking.corpus import Block
from matcher.ranking.scoring import SPLIT_MIN, split_rows
from plugins.semantic import FULL_PASS_SHARE, HUB_K, hub_state, rows_dot

DIM = 24


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _corpus(needs: dict[str, tuple[str, np.ndarray]]) -> SimpleNamespace:
    """The parts of a corpus the hub scores read: the needs (texts) and their vectors."""
    return SimpleNamespace(extra={}, needs={i: {"text": t} for i, (t, _) in needs.items()},
                           need_vectors={"e": {i: v for i, (_, v) in needs.items()}})


def _block(texts: list[str], matrix: np.ndarray) -> Block:
    block = Block(kind="partner", ids=[f"o{i}" for i in range(len(texts))],
                  records=[{} for _ in texts], texts=texts, languages=["en"] * len(texts),
                  category=np.full(len(texts), -1))
    block.vectors["e"] = matrix
    return block


def test_hub_scores_brought_up_to_date_equal_those_computed_anew():
    rng = np.random.default_rng(7)
    texts = [f"offering {i}" for i in range(400)]
    matrix = _unit(rng, 400)
    needs = {f"n{j}": (f"need {j}", v) for j, v in enumerate(_unit(rng, 60))}
    before_block = _block(texts, matrix)
    before = hub_state(_corpus(needs), before_block, "e")

    # needs: 4 gone, 3 new, 2 rewritten; candidates: 10 gone, 6 new, 5 rewritten
    changed = dict(list(needs.items())[4:])
    for j, vector in enumerate(_unit(rng, 3)):
        changed[f"new{j}"] = (f"new need {j}", vector)
    for j, need_id in enumerate(["n10", "n11"]):
        changed[need_id] = (f"rewritten need {j}", _unit(rng, 1)[0])
    keep = list(range(10, 400))
    texts_after = [texts[i] for i in keep] + [f"new offering {i}" for i in range(6)]
    matrix_after = np.vstack([matrix[keep], _unit(rng, 6)])
    for i in range(5):
        texts_after[i] = f"rewritten offering {i}"
        matrix_after[i] = _unit(rng, 1)[0]
    after_block = _block(texts_after, matrix_after)

    updated = hub_state(_corpus(changed), after_block, "e", before_block, before)
    anew = hub_state(_corpus(changed), after_block, "e")

    np.testing.assert_allclose(updated["hub"], anew["hub"], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(np.sort(updated["top_needs"], axis=1),
                                  np.sort(anew["top_needs"], axis=1))
    assert updated["top"].shape == (len(texts_after), HUB_K)


def test_a_second_scorer_over_the_same_embedder_shares_the_hub_scores():
    rng = np.random.default_rng(3)
    corpus = _corpus({f"n{j}": (f"need {j}", v) for j, v in enumerate(_unit(rng, 20))})
    block = _block([f"t{i}" for i in range(50)], _unit(rng, 50))
    assert hub_state(corpus, block, "e") is hub_state(corpus, block, "e")


@pytest.mark.parametrize("share", [0.01, 0.1, 0.14, 0.2, 0.39, 0.6, 1.0])
def test_rows_dot_gives_the_values_of_a_plain_gather_or_a_full_pass(share):
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((5000, 48)).astype(np.float32)
    vector = rng.standard_normal(48).astype(np.float32)
    rows = np.sort(rng.choice(5000, min(5000, int(5000 * share) + 1), replace=False))

    got = rows_dot(matrix, rows, vector)

    # the values of one plain expression exactly: a gather of the rows below the share, one
    # pass over every row above it (BLAS may round a few rows' last bit differently between
    # the two: 1e-6 of a cosine)
    plain = matrix[rows] @ vector if share < FULL_PASS_SHARE else (matrix @ vector)[rows]
    assert got.dtype == np.float32 and np.array_equal(got, plain)
    np.testing.assert_allclose(got, matrix[rows] @ vector, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("share", [0.1, 0.39, 0.6, 1.0])
def test_rows_dot_split_between_threads_gives_the_same_values(share):
    rng = np.random.default_rng(11)
    n = 3 * SPLIT_MIN
    matrix = rng.standard_normal((n, 40)).astype(np.float32)
    vector = rng.standard_normal(40).astype(np.float32)
    rows = np.sort(rng.choice(n, int(n * share), replace=False))

    alone = rows_dot(matrix, rows, vector)
    shared = rows_dot(matrix, rows, vector,
                      lambda count, work, align=1: split_rows(count, work, 2, align))

    assert np.array_equal(shared, alone)


def test_a_large_pass_is_shared_with_a_helper_thread_in_aligned_parts():
    parts: list[tuple[int, int, str]] = []

    def work(start: int, stop: int) -> None:
        parts.append((start, stop, threading.current_thread().name))

    split_rows(SPLIT_MIN + 5, work, threads=2, align=192)

    parts.sort()
    assert [(a, b) for a, b, _ in parts] == [(0, parts[0][1]), (parts[0][1], SPLIT_MIN + 5)]
    assert parts[0][1] % 192 == 0 and abs(parts[0][1] - (SPLIT_MIN + 5) / 2) < 192
    assert parts[0][2] == threading.current_thread().name != parts[1][2]


@pytest.mark.parametrize("n, threads", [(SPLIT_MIN - 1, 2), (5 * SPLIT_MIN, 1)])
def test_a_small_pass_or_one_thread_runs_alone(n, threads):
    parts: list[tuple[int, int, str]] = []
    split_rows(n, lambda a, b: parts.append((a, b, threading.current_thread().name)), threads)
    assert parts == [(0, n, threading.current_thread().name)]


def test_a_part_that_fails_fails_the_pass_and_frees_the_helper():
    def work(start: int, stop: int) -> None:
        if start:
            raise RuntimeError("helper part failed")

    with pytest.raises(RuntimeError):
        split_rows(SPLIT_MIN, work, threads=2)
    parts: list[str] = []
    split_rows(SPLIT_MIN, lambda a, b: parts.append(threading.current_thread().name), 2)
    assert len(parts) == 2  # the helper was given back


@pytest.mark.parametrize("threads", [1, 3])
def test_a_suggestions_scorers_may_use_the_threads_the_settings_allow(
        demo_copy, settings_for, monkeypatch, threads):
    from matcher.ranking.engine import Engine
    from plugins.semantic import SemanticScorer

    seen: list[int] = []
    score = SemanticScorer.score
    monkeypatch.setattr(SemanticScorer, "score",
                        lambda self, ctx: seen.append(ctx.threads) or score(self, ctx))
    engine = Engine(settings_for(demo_copy, scoring_threads=threads))
    need_id = sorted(engine.corpus().needs)[0]

    engine.suggest(need_id, "partner", 5)

    assert seen and set(seen) == {threads}
