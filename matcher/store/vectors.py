"""Embedding vectors, keyed by embedder and content hash."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from matcher.store import dialect
from matcher.store.base import BaseStore
from matcher.store.sql import in_list


@dataclass(frozen=True)
class Vector:
    """One text's vector by one embedder (made by ``model``), ready to store."""

    embedder: str
    content_hash: str
    vector: np.ndarray
    model: str | None = None


# Above this many hashes, a read takes all of an embedder's vectors in one pass rather than
# looking them up 500 at a time (a corpus build asks for nearly all of them); a save of as many
# refreshes the table's statistics on PostgreSQL, which plans the lookups by them.
_ONE_READ = 2000


class VectorsMixin(BaseStore):
    """float32 BLOBs with their embedder name, the model that made them, dimension and content
    hash."""

    def known_hashes(self, embedder: str, model: str | None = None,
                     among: list[str] | None = None, vectors_only: bool = False) -> set[str]:
        """Hashes of the texts embedded by ``embedder`` (made by ``model``, when given; only
        those ``among`` these hashes, when given), or that it leaves out on purpose (a mark:
        a vector of no dimension), unless ``vectors_only``."""
        sql, args = "select content_hash from vectors where embedder = :embedder", {
            "embedder": embedder}
        if vectors_only:
            sql += " and dim > 0"
        if model is not None:
            sql, args = sql + " and model = :model", {**args, "model": model}
        if among is not None:
            if not among:
                return set()
            marks, hashes = in_list("hash", among)
            sql, args = f"{sql} and content_hash in ({marks})", {**args, **hashes}
        return {row[0] for row in self.db.execute(sql, args).fetchall()}

    def corpus_tokens(self) -> dict[str, str]:
        """What the corpus built from the store now depends on: the data version and the
        random tokens that every write of records or of vectors renews (made when missing)."""
        keys = ("data_version", "data_token", "vectors_token")
        marks, params = in_list("key", keys)
        sql = f"select key, value from meta where key in ({marks})"
        found = dict(self.db.execute(sql, params).fetchall())
        if "data_token" not in found or "vectors_token" not in found:
            with self.writing():
                self.db.upsert_all("meta", [{"key": key, "value": secrets.token_hex(12)}
                                            for key in ("data_token", "vectors_token")],
                                   "key", replace=False)
                found = dict(self.db.execute(sql, params).fetchall())
        return {key: found.get(key, "0") for key in keys}

    def vector_count(self) -> int:
        return self.db.value("select count(*) from vectors")

    def save_vectors(self, embedder: str, hashes: list[str], matrix: np.ndarray,
                     model: str | None = None) -> None:
        """Store vectors made by ``model``; ``embedder``'s vectors of any other model go."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        with self.writing():
            self._put_vectors(Vector(embedder, h, matrix[i], model) for i, h in enumerate(hashes))
            self.db.execute("delete from vectors where embedder = :embedder and model is "
                            "distinct from :model", {"embedder": embedder, "model": model})
            self._new_token("vectors_token")
            if len(hashes) >= _ONE_READ:
                dialect.refresh_statistics(self.db, "vectors")

    def _put_vectors(self, vectors: Iterable[Vector]) -> None:
        """Upsert vectors inside the caller's transaction."""
        rows = [{"embedder": v.embedder, "content_hash": v.content_hash,
                 "dim": int(v.vector.shape[-1]), "model": v.model,
                 "vector": np.ascontiguousarray(v.vector, dtype=np.float32).tobytes()}
                for v in vectors]
        if rows:
            self.db.upsert_all("vectors", rows, ("embedder", "content_hash"))
            self._new_token("vectors_token")

    def vectors_by_hash(self, embedder: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``embedder`` among ``hashes``; missing ones are left out, and
        a text the embedder leaves out on purpose has a vector of length 0."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        if len(unique) > _ONE_READ:  # a corpus build: one pass over the embedder's rows
            wanted = set(unique)
            cursor = self.db.execute("select content_hash, dim, vector from vectors "
                                     "where embedder = :embedder", {"embedder": embedder})
            for content_hash, dim, blob in cursor:
                if content_hash in wanted:
                    found[content_hash] = np.frombuffer(blob, dtype=np.float32, count=dim)
            return found
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks, params = in_list("hash", chunk)
            cursor = self.db.execute(
                f"select content_hash, dim, vector from vectors where embedder = :embedder "
                f"and content_hash in ({marks})", {**params, "embedder": embedder})
            for content_hash, dim, blob in cursor.fetchall():
                found[content_hash] = np.frombuffer(blob, dtype=np.float32, count=dim)
        return found

    def load_vectors(self, embedder: str, hashes: list[str]) -> np.ndarray:
        """Vectors for ``hashes`` in order; a missing one raises KeyError."""
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        found = self.vectors_by_hash(embedder, hashes)
        return np.vstack([found[h] for h in hashes])
