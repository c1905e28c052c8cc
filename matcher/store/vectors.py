"""Embedding vectors, keyed by embedder and content hash."""

from __future__ import annotations

import numpy as np

from matcher.store.base import BaseStore


class VectorsMixin(BaseStore):
    """float32 BLOBs with their embedder name, the model that made them, dimension and content
    hash."""

    def known_hashes(self, embedder: str, model: str | None = None) -> set[str]:
        """Hashes of the texts embedded by ``embedder`` (made by ``model``, when given)."""
        sql, args = "select content_hash from vectors where embedder = ?", [embedder]
        if model is not None:
            sql, args = sql + " and model is ?", [embedder, model]
        return {row[0] for row in self.db.execute(sql, args).fetchall()}

    def save_vectors(self, embedder: str, hashes: list[str], matrix: np.ndarray,
                     model: str | None = None) -> None:
        """Store vectors made by ``model``; ``embedder``'s vectors of any other model go."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        rows = [{"embedder": embedder, "content_hash": h, "dim": int(matrix.shape[1]),
                 "vector": matrix[i].tobytes(), "model": model} for i, h in enumerate(hashes)]
        with self.transaction():
            self.db["vectors"].upsert_all(rows, pk=("embedder", "content_hash"))
            self.db.execute("delete from vectors where embedder = ? and model is not ?",
                            [embedder, model])

    def load_vectors(self, embedder: str, hashes: list[str]) -> np.ndarray:
        """Vectors for ``hashes`` in order; a missing one raises KeyError."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = self.db.execute(
                f"select content_hash, dim, vector from vectors where embedder = ? "
                f"and content_hash in ({marks})", [embedder, *chunk])
            for content_hash, dim, blob in cursor.fetchall():
                found[content_hash] = np.frombuffer(blob, dtype=np.float32, count=dim)
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[h] for h in hashes])
