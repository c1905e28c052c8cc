"""The semantic scorers' hub scores (plugins.semantic.hub_state): brought up to date after a
write, they equal those computed anew, and only what changed is compared again."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from matcher.ranking.corpus import Block
from plugins.semantic import HUB_K, hub_state, rows_dot

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


@pytest.mark.parametrize("share", [0.01, 0.2, 0.39, 0.6, 1.0])
def test_rows_dot_gives_the_values_of_a_plain_gather(share):
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((5000, 48)).astype(np.float32)
    vector = rng.standard_normal(48).astype(np.float32)
    rows = np.sort(rng.choice(5000, max(1, int(5000 * share)), replace=False))

    got = rows_dot(matrix, rows, vector)

    assert got.dtype == np.float32 and np.array_equal(got, matrix[rows] @ vector)
